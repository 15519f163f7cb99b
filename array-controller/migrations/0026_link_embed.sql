-- The sites whose pages may frame a link's player page: normalised origins separated by
-- spaces (NULL: none, the page is never framed).
ALTER TABLE links ADD COLUMN embed_origins TEXT;
