"""Multiple choice (SWAG, COPA, the user's own): score each choice, pick the best one."""
