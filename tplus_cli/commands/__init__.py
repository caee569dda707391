"""One module per command group; thin: parse, call the client, render."""
