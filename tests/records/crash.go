// Real Go output for the record tests: `crash SCENARIO` writes to stderr what the Go runtime
// writes for that case. Built with Debian's golang-go by test_records.py at test time.
package main

import (
	"fmt"
	"os"
	"time"
)

type server struct{ name string }

func (s *server) run(n int) {
	if n > 2 {
		panic(fmt.Sprintf("%s: too many requests", s.name))
	}
	s.run(n + 1)
}

func main() {
	switch os.Args[1] {
	case "panic":
		(&server{"api"}).run(0)
	case "all":
		// GOTRACEBACK=all: the other goroutines' stacks too.
		for i := 0; i < 2; i++ {
			go func() { time.Sleep(time.Hour) }()
		}
		time.Sleep(10 * time.Millisecond)
		panic("shutting down")
	case "recovered":
		defer func() {
			r := recover()
			panic(fmt.Sprintf("while handling %v", r))
		}()
		panic("first failure")
	case "nil":
		var s *server
		fmt.Println(s.name)
	case "deadlock":
		ch := make(chan int)
		<-ch
	case "map":
		m := map[int]int{}
		for i := 0; i < 4; i++ {
			go func() {
				for j := 0; ; j++ {
					m[j%100] = j
				}
			}()
		}
		time.Sleep(5 * time.Second)
		fmt.Fprintln(os.Stderr, "no concurrent map write detected")
		os.Exit(3)
	default:
		fmt.Fprintln(os.Stderr, "crash: unknown scenario", os.Args[1])
		os.Exit(2)
	}
}
