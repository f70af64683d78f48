-- Every replacement of a setting counts up its version, so that instances notice a changed
-- catalogue by reading one number rather than the whole value.
ALTER TABLE settings ADD COLUMN version INTEGER NOT NULL DEFAULT 0;
