"""`python -m electra_tasks` (and so `torchrun -m electra_tasks`, `accelerate launch -m electra_tasks`)."""

from electra_tasks.cli import main

if __name__ == "__main__":
    main()
