//! What an acquire resolves before it reserves: the link, the game and its published version.
