-- Service-wide settings shared by every instance (the admin password's hash, the catalogue).
CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
