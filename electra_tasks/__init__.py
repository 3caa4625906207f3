"""electra-tasks: fine-tune and continue pre-training ELECTRA encoders on Hugging Face Transformers."""

__version__ = "0.1.0"
