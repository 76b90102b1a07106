"""共通機能 宛名 (住登外者宛名番号管理 031, 団体内統合宛名 032): the person index modules share.

Only the 名寄せ rules exist yet (`matching`); the module's rooms come with issue 18.
"""
