"""The Tradewind monitor: a Textual terminal UI that is a pure client of ControlService."""
