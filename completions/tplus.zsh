#compdef tplus

_tplus_completion() {
  eval $(env _TYPER_COMPLETE_ARGS="${words[1,$CURRENT]}" _TPLUS_COMPLETE=complete_zsh tplus)
}

compdef _tplus_completion tplus
