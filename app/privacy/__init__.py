"""Residents' personal information (issue 21): who sees which phone number and name, consent to the privacy
notice, and how long what is personal is kept."""
