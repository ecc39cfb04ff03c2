"""Who a user sends as: aliases, the From a reply or a new email starts with, signatures."""
