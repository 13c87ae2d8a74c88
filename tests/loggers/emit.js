// Writes records through a real Node.js logger to stdout, one JSON line each, as an application
// would:
//
//   node emit.js KIND '[{"level": "error", "msg": "...", "fields": {...}}]'
//
// KIND: pino, bunyan, winston (npm levels), winston-syslog (syslog levels), ecs-pino and
// ecs-winston (Elastic's ECS formatters for pino and winston: "log.level", "message"), bole.
'use strict';

const [kind, spec] = process.argv.slice(2);
const records = JSON.parse(spec);

function pinoLogger(options = {}) {
  const pino = require('pino');
  return pino({level: 'trace', ...options}, pino.destination({dest: 1, sync: true}));
}

function bunyanLogger() {
  const bunyan = require('bunyan');
  return bunyan.createLogger({name: 'app', level: 'trace', stream: process.stdout});
}

function winstonLogger(levels, format) {
  const winston = require('winston');
  return winston.createLogger({
    levels: levels === 'syslog' ? winston.config.syslog.levels : winston.config.npm.levels,
    level: levels === 'syslog' ? 'debug' : 'silly',
    format: format || winston.format.combine(winston.format.timestamp(), winston.format.json()),
    transports: [new winston.transports.Console()],
  });
}

function ecsPinoLogger() {
  const {ecsFormat} = require('@elastic/ecs-pino-format');
  return pinoLogger(ecsFormat());
}

function ecsWinstonLogger() {
  const {ecsFormat} = require('@elastic/ecs-winston-format');
  return winstonLogger('npm', ecsFormat());
}

async function boleLogger() {
  // bole 6 is an ES module only.
  const {default: bole} = await import('bole');
  bole.output({level: 'debug', stream: process.stdout});
  return bole('app');
}

const make = {
  'pino': () => pinoLogger(),
  'bunyan': bunyanLogger,
  'winston': () => winstonLogger('npm'),
  'winston-syslog': () => winstonLogger('syslog'),
  'ecs-pino': ecsPinoLogger,
  'ecs-winston': ecsWinstonLogger,
  'bole': boleLogger,
}[kind];
if (!make) {
  process.stderr.write(`emit.js: unknown logger ${kind}\n`);
  process.exit(2);
}
(async () => {
  const logger = await make();
  for (const record of records) {
    if (kind.startsWith('winston') || kind === 'ecs-winston')
      logger.log(record.level, record.msg, record.fields);
    else
      logger[record.level](record.fields, record.msg);
  }
})();
