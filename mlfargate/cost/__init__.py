"""Stage 5, cost: the price book (``price_book``: bundled snapshot or refreshed cache), refreshing it
from AWS (``price_list``), the week of scaling bounds the schedules produce, as exact intervals
(``timeline``), the monthly floor/ceiling with Spot (``estimate``), every other billable resource the
workspace creates, classified and priced (``billable``, over ``generate.inventory``), the shared line
types (``lines``) and GPU sizing that explains itself (``sizing``)."""
