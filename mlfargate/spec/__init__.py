"""Stage 1, the spec: the deployment spec's model (``model``), the AWS rules it must meet (``rules``),
the facts those rules read (``catalog``: instance types, Fargate sizes, regions) and AWS cron
(``cron``). Everything downstream starts from a :class:`~mlfargate.spec.model.Spec` that passed
:func:`~mlfargate.spec.rules.validate`."""
