"""Self-play, targets, replay, learner, the host loop and checkpoints."""
