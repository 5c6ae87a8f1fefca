"""Follows: what members start (follow, unfollow, answer a request) and the received Follow,
Accept, Reject and Undo that answer them."""
