-- Cases: explained recordings (HAR files, console text) an admin chose to keep, with every
-- secret already redacted. Times are Unix microseconds on both backends (see cases.go).
CREATE TABLE cases (
	id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	title      text NOT NULL,
	created_at bigint NOT NULL,
	findings   text NOT NULL
);
