"""The network edges: the only modules that open sockets.

`smtp` sends (aiosmtplib, or a folder of .eml files), `imap` reads a mailbox (aioimaplib) and
`receiver` accepts mail over SMTP (aiosmtpd). Everything they carry is parsed and decided
elsewhere: `inbound/` is pure, `services/` holds the use cases.
"""
