"""Privacy records shared by the capabilities: the addresses erased (`erased`)."""
