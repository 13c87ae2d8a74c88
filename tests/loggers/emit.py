"""Writes records through a real Python logger to stdout, one JSON line each, as an application
would: python3 emit.py structlog|jsonlogger|loguru '[{"level": "error", "msg": "...", "fields": {...}}]'
"""
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


def loguru_emit(records):
    # loguru's serialize=True: {"text": the formatted line, "record": {"message", "level": {"name",
    # "no"}, "extra": the bound fields, "exception", ...}}.
    from loguru import logger
    logger.remove()
    logger.add(sys.stdout, serialize=True, level="TRACE")
    for record in records:
        if record.get("exception"):
            try:
                raise ValueError(record["exception"])
            except ValueError:
                logger.bind(**record["fields"]).opt(exception=True).log(
                    record["level"].upper(), record["msg"])
        else:
            logger.bind(**record["fields"]).log(record["level"].upper(), record["msg"])


if __name__ == "__main__":
    kind, spec = sys.argv[1], json.loads(sys.argv[2])
    {"structlog": structlog_emit, "jsonlogger": jsonlogger_emit, "loguru": loguru_emit}[kind](spec)
