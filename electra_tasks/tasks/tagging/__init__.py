"""Token tagging (NER, chunking, POS): CoNLL-2003 and any CoNLL-column file."""
