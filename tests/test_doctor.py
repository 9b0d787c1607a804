from support import require_espeak, run


def test_doctor_finds_everything_working_with_a_sound_server(pulse_daemon, tmp_path):
    require_espeak()
    result = run(["doctor"], tmp_path, env=pulse_daemon.env)
    assert result.returncode == 0, result.stdout
    lines = findings(result.stdout)
    assert [line.split(":")[0] for line in lines] == [
        "ok    sound library", "ok    sound output", "ok    speech", "ok    natural voice",
        "ok    folders"]
    assert "a short test tone played" in lines[1]
    # the phrase is made, not played, and the line says so
    assert "a test phrase was synthesised" in lines[2] and "played" not in lines[2].replace(
        "not played", "")


def findings(stdout: str) -> list[str]:
    """Each finding of ``grounding doctor`` as one line: its wrapped lines joined, without
    the fixes below it (indented by 8)."""
    found: list[str] = []
    for line in stdout.splitlines():
        if not line.startswith(" "):
            found.append(line)
        elif not line.startswith(" " * 8):
            found[-1] += " " + line.strip()
    return found


def test_doctor_names_the_fix_when_there_is_no_sound_output(tmp_path):
    result = run(["doctor"], tmp_path, env={"PULSE_SERVER": f"unix:{tmp_path}/nothing"})
    assert result.returncode == 1
    assert "FIX   sound output: no output device was found" in result.stdout
    assert "sudo apt install libasound2-plugins" in result.stdout
    assert "--out session.wav" in result.stdout and "Traceback" not in result.stdout


def test_doctor_survives_a_missing_speech_engine(tmp_path):
    from support import without_library

    result = run(["doctor"], tmp_path, prefix=without_library("espeak-ng"),
                 env={"PULSE_SERVER": f"unix:{tmp_path}/nothing"})
    assert result.returncode == 1
    assert "FIX   speech:" in result.stdout and "sudo apt install espeak-ng" in result.stdout
    assert "ok    folders" in result.stdout
