"""Writes records through a real Python logger to stdout, one JSON line each, as an application
would: python3 emit.py structlog|jsonlogger '[{"level": "error", "msg": "...", "fields": {...}}]'"""
import json
import logging
import sys


def structlog_emit(records):
    import structlog
    structlog.configure(
        processors=[
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso"),
            structlog.processors.JSONRenderer(),
        ],
        logger_factory=structlog.PrintLoggerFactory(sys.stdout),
    )
    log = structlog.get_logger()
    for record in records:
        getattr(log, record["level"])(record["msg"], **record["fields"])


def jsonlogger_emit(records):
    from pythonjsonlogger import jsonlogger
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(jsonlogger.JsonFormatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    log = logging.getLogger("app")
    log.addHandler(handler)
    log.setLevel(logging.DEBUG)
    for record in records:
        log.log(logging.getLevelName(record["level"].upper()), record["msg"], extra=record["fields"])


if __name__ == "__main__":
    kind, spec = sys.argv[1], json.loads(sys.argv[2])
    {"structlog": structlog_emit, "jsonlogger": jsonlogger_emit}[kind](spec)
