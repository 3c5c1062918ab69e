"""Email (docs/email.md): incident messages to people and lists through Django's mail settings,
one email per batch, threaded per incident."""
