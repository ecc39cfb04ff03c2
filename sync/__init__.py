"""The outside world (IMAP, SMTP, channels). Empty until the mail issues land."""
