"""Replaced-token-detection (RTD) pre-training: ELECTRA's generator + discriminator.

`run.pretrain(PretrainOptions)` is what `electra-tasks pretrain-continue` calls. The modules each do
one job: `corpus` streams and packs text, `vocab` trains a WordPiece vocabulary, `masking` picks
and samples tokens, `model` joins the pair with shared embeddings and computes the loss,
`trainer` hooks it into the HF Trainer, `sizes` holds the published model and recipe sizes.
"""
