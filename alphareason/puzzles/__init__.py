"""Puzzles added as a user adds one: each module is written against alphareason's public
API alone (`alphareason.Env`, `register`, `register_rg_task`) and is found through the
entry-point group `alphareason.envs` of this distribution, as a plug-in's would be."""
