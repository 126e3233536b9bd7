"""The wizard: one screen (a step list and the step bodies), one module per step."""
