"""Mail stores: IMAP servers and local mail files behind one interface, no UI code."""
