#!/usr/bin/env python3
"""A real SMTP server on loopback for Backroom's mail tests (aiosmtpd).

Every accepted message is parsed with Python's email library and written to
DIR/NNNN.json: the envelope (sender, recipients), the decoded From, To, Subject,
Message-ID and Reply-To headers, the raw header lines, and the text and HTML parts.

  smtp_sink.py --dir DIR [--port P] [--fail-first N]

prints "port P" once listening and runs until its standard input closes.
--fail-first N answers "451 try again later" to the first N messages; a recipient
whose address contains "reject" gets "550 mailbox unavailable".
"""
import argparse
import email
import json
import os
import socket
import sys
from email import policy
from email.header import decode_header, make_header

from aiosmtpd.controller import Controller


class Sink:
    def __init__(self, out, fail_first):
        self.out = out
        self.failures_left = fail_first
        self.count = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if "reject" in address:
            return "550 5.1.1 mailbox unavailable: " + address
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.failures_left > 0:
            self.failures_left -= 1
            return "451 4.3.0 try again later"
        message = email.message_from_bytes(envelope.content, policy=policy.default)
        raw = email.message_from_bytes(envelope.content, policy=policy.compat32)

        def decoded(name):
            # RFC 2047 as written: adjacent encoded words join without a space (the
            # default policy's address parser adds one between them).
            value = raw[name]
            return str(make_header(decode_header(value))) if value is not None else None

        text = message.get_body(("plain",))
        html = message.get_body(("html",))
        record = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "from": decoded("From"),
            "to": decoded("To"),
            "subject": decoded("Subject"),
            "message_id": decoded("Message-ID"),
            "reply_to": decoded("Reply-To"),
            "header_names": [name for name, _ in message.raw_items()],
            "raw_headers": envelope.content.split(b"\r\n\r\n", 1)[0].decode("ascii", "replace"),
            "text": text.get_content() if text else None,
            "html": html.get_content() if html else None,
        }
        self.count += 1
        path = os.path.join(self.out, f"{self.count:04}.json")
        with open(path + ".partial", "w", encoding="utf-8") as f:
            json.dump(record, f, ensure_ascii=False)
        os.rename(path + ".partial", path)
        return "250 OK"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--dir", required=True)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--fail-first", type=int, default=0)
    args = parser.parse_args()
    port = args.port
    if port == 0:
        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
        probe.close()
    controller = Controller(Sink(args.dir, args.fail_first), hostname="127.0.0.1", port=port)
    controller.start()
    print(f"port {port}", flush=True)
    sys.stdin.read()
    controller.stop()


if __name__ == "__main__":
    main()
