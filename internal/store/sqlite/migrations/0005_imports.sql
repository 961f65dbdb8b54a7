-- Imports (SPEC 6, POST /api/admin/import): every importId ever imported,
-- so that importing it again stores nothing. Kept for good, unlike the
-- 24-hour publish idempotency keys; erasing a user deletes theirs.
CREATE TABLE imports (
    import_id   TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL,
    imported_at INTEGER NOT NULL
) WITHOUT ROWID;

-- erasing a user (DELETE /api/admin/users/{id})
CREATE INDEX imports_user ON imports (user_id);
