"""Stage 5, cost: the price book (``price_book``: bundled snapshot or refreshed cache), refreshing it
from AWS (``price_list``), the week of scaling bounds the schedules produce (``timeline``), the
monthly floor/ceiling with Spot (``estimate``) and GPU sizing that explains itself (``sizing``)."""
