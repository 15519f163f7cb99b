-- A try-play link's call to action on the player's end screen.
ALTER TABLE links ADD COLUMN cta_label TEXT;
ALTER TABLE links ADD COLUMN cta_url TEXT;
