// Writes records through a real Node.js logger to stdout, one JSON line each, as an application
// would: node emit.js pino|bunyan|winston '[{"level": "error", "msg": "...", "fields": {...}}]'
'use strict';

const [kind, spec] = process.argv.slice(2);
const records = JSON.parse(spec);

function pinoLogger() {
  const pino = require('pino');
  return pino({level: 'trace'}, pino.destination({dest: 1, sync: true}));
}

function bunyanLogger() {
  const bunyan = require('bunyan');
  return bunyan.createLogger({name: 'app', level: 'trace', stream: process.stdout});
}

function winstonLogger() {
  const winston = require('winston');
  return winston.createLogger({
    level: 'silly',
    format: winston.format.combine(winston.format.timestamp(), winston.format.json()),
    transports: [new winston.transports.Console()],
  });
}

const make = {pino: pinoLogger, bunyan: bunyanLogger, winston: winstonLogger}[kind];
if (!make) {
  process.stderr.write(`emit.js: unknown logger ${kind}\n`);
  process.exit(2);
}
const logger = make();
for (const record of records) {
  if (kind === 'winston')
    logger.log(record.level, record.msg, record.fields);
  else
    logger[record.level](record.fields, record.msg);
}
