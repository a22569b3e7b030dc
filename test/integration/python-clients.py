"""Drives Sealpost with Python's standard smtplib and imaplib; prints JSON results."""
import imaplib
import json
import smtplib
import ssl
import sys
from email.message import EmailMessage

smtp_port, imap_port, ca_file, user, password = sys.argv[1:6]
ctx = ssl.create_default_context(cafile=ca_file)

with smtplib.SMTP("localhost", int(smtp_port), timeout=20) as s:
    s.starttls(context=ctx)
    s.login(user, password)
    for subject, body in (("Hello from Python", "plain body text"), ("Größe prüfen", "zweite Nachricht über Umlaute")):
        m = EmailMessage()
        m["From"] = user
        m["To"] = user
        m["Subject"] = subject
        m.set_content(body)
        s.send_message(m)

out = {}
im = imaplib.IMAP4("localhost", int(imap_port), timeout=20)
im.starttls(ssl_context=ctx)
im.login(user, password)
im.select("INBOX")
out["search_subject"] = [x.decode() for x in im.search(None, "SUBJECT", '"Hello from"')[1]]
out["search_unseen_before"] = [x.decode() for x in im.search(None, "UNSEEN")[1]]
typ, data = im.fetch("1", "(BODY[TEXT] ENVELOPE)")
out["body_contains"] = b"plain body text" in data[0][1]
out["envelope_subject"] = b"Hello from Python" in b"".join(x if isinstance(x, bytes) else b"".join(x) for x in data)
im.store("1", "+FLAGS", "(\\Seen \\Flagged)")
typ, data = im.fetch("1", "(FLAGS)")
out["flags_after_store"] = b"\\Seen" in data[0] and b"\\Flagged" in data[0]
out["copied"] = im.copy("1", "Archive")[0]
out["archive_count"] = im.status("Archive", "(MESSAGES)")[1][0].decode().split("MESSAGES ")[1].rstrip(")")
im.store("1", "+FLAGS", "(\\Deleted)")
out["expunged"] = [x.decode() for x in im.expunge()[1]]
out["inbox_after"] = im.select("INBOX")[1][0].decode()
out["appended"] = im.append("Drafts", "(\\Draft)", None, b"From: py@example.test\r\nSubject: draft\r\n\r\nunfinished\r\n")[0]
typ, lines = im.list()
out["listed_special_use"] = any(b"\\Drafts" in l and b"Drafts" in l for l in lines)
im.select("INBOX")
# The remaining message is now number 1; this search runs on the UTF-8 subject.
im.literal = "Größe".encode()
out["search_utf8"] = [x.decode() for x in im.uid("SEARCH", "CHARSET", "UTF-8", "SUBJECT")[1]]
im.logout()
print(json.dumps(out))
