"""The follow-up worker: claims due follow-ups with a lease and settles each once."""
