"""The customer's rights over their data: access, correction, deletion, stop processing, and
the shop's retention policy."""
