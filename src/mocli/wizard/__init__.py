"""The new-case wizard: the steps and questions as data, one prompter that talks to questionary."""
