// Real Java output for the record tests: `java Crash SCENARIO` writes to stderr what the JVM or
// printStackTrace writes for that case. Compiled with Debian's JDK by test_records.py at test time.
import java.io.IOException;

public class Crash {
    static class Resource implements AutoCloseable {
        @Override
        public void close() throws IOException {
            throw new IOException("close failed");
        }
    }

    static void readConfig() throws IOException {
        throw new IOException("config.yaml: permission denied");
    }

    static void load() {
        try {
            readConfig();
        } catch (IOException e) {
            throw new IllegalStateException("cannot load configuration", e);
        }
    }

    static void start() {
        try {
            load();
        } catch (IllegalStateException e) {
            throw new RuntimeException("service failed to start", e);
        }
    }

    static void use() throws Exception {
        try (Resource r = new Resource()) {
            throw new IllegalArgumentException("bad input");
        }
    }

    public static void main(String[] args) throws Exception {
        switch (args[0]) {
            case "caused_by":
                try {
                    start();
                } catch (RuntimeException e) {
                    e.printStackTrace();
                }
                break;
            case "suppressed":
                try {
                    use();
                } catch (Exception e) {
                    e.printStackTrace();
                }
                break;
            case "multiline_message":
                try {
                    throw new IllegalArgumentException(
                        "validation failed:\n  name: must not be empty\n  port: 70000 is out of range");
                } catch (IllegalArgumentException e) {
                    e.printStackTrace();
                }
                break;
            case "thread":
                Thread worker = new Thread(() -> {
                    throw new IllegalStateException("worker gave up");
                }, "worker-1");
                worker.start();
                worker.join();
                break;
            case "error":
                int[] data = new int[2];
                System.out.println(data[5]);
                break;
            default:
                System.err.println("Crash: unknown scenario " + args[0]);
                System.exit(2);
        }
    }
}
