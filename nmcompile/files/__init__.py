"""Files in and out: opening what the user names (inputfiles), and writing outputs (outputs
checks them together before any work, atomic writes them through a temporary file, strictjson
keeps JSON strict)."""
