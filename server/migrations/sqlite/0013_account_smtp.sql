-- How an account sends: its SMTP server, and the password sealed with the server's key.
CREATE TABLE account_smtp (
    account_id TEXT PRIMARY KEY REFERENCES accounts(id) ON DELETE CASCADE,
    host TEXT NOT NULL,
    port INTEGER NOT NULL,
    security TEXT NOT NULL CHECK (security IN ('none', 'starttls', 'tls')),
    username TEXT,
    password_sealed BLOB,
    updated_at BIGINT NOT NULL
)
