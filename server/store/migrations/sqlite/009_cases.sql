-- Cases: explained recordings (HAR files, console text) an admin chose to keep, with every
-- secret already redacted. Times are Unix microseconds on both backends (see cases.go).
CREATE TABLE cases (
	id         INTEGER PRIMARY KEY AUTOINCREMENT,
	title      TEXT NOT NULL,
	created_at INTEGER NOT NULL,
	findings   TEXT NOT NULL
) STRICT;
