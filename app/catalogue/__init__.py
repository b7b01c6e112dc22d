"""The catalogue of digital services the teams guide households in, and each province's targets."""
