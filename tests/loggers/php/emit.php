<?php
// Writes records through real Monolog formatters to stdout, one line each, as an application would:
//
//   php emit.php json|logstash '[{"level": "error", "msg": "...", "fields": {...}}]'
//
// json: JsonFormatter ("level": its number, "level_name": its name). logstash: LogstashFormatter
// ("@timestamp", "level": the name, "monolog_level": the number). The fields are the record's
// context. Debian's php-monolog.
require '/usr/share/php/Monolog/autoload.php';

use Monolog\Formatter\JsonFormatter;
use Monolog\Formatter\LogstashFormatter;
use Monolog\Handler\StreamHandler;
use Monolog\Logger;

[$self, $kind, $spec] = $argv + [null, null, null];
$handler = new StreamHandler('php://stdout', Logger::DEBUG);
if ($kind === 'json') {
    $handler->setFormatter(new JsonFormatter());
} elseif ($kind === 'logstash') {
    $handler->setFormatter(new LogstashFormatter('billing'));
} else {
    fwrite(STDERR, "usage: emit.php json|logstash RECORDS\n");
    exit(2);
}
$log = new Logger('app');
$log->pushHandler($handler);
foreach (json_decode($spec, true, 512, JSON_THROW_ON_ERROR) as $record) {
    $log->log($record['level'], $record['msg'], $record['fields'] ?? []);
}
