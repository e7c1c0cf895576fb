"""Drive NeoBoot's console shell through a pty, as a person at the console
would: wait for prompts, type commands, check what comes back. Used for the
hosted shell (`neoboot shell`) and for the serial console of a VM.

usage: shell_drive.py SCRIPT -- COMMAND...
SCRIPT is a file of steps, one per line:
    send TEXT          type TEXT and Enter, then wait for the next prompt
    expect REGEX       the output since the last send must match REGEX
    reject REGEX       ... must not match
    until SECS TEXT REGEX   repeat `send TEXT` (1 s apart) until REGEX matches
Exit status 0 when every step held; otherwise the transcript is printed.
"""
import re
import sys
import time

import pexpect

PROMPT = r"neoboot> "


def main():
    sep = sys.argv.index("--")
    script = open(sys.argv[1]).read().splitlines()
    cmd = sys.argv[sep + 1:]
    child = pexpect.spawn(cmd[0], cmd[1:], encoding="utf-8", timeout=60,
                          codec_errors="replace", dimensions=(50, 200))
    log = []
    child.logfile_read = type("L", (), {"write": lambda s, t: log.append(t),
                                        "flush": lambda s: None})()
    try:
        child.expect(PROMPT, timeout=60)
        out = ""
        for line in script:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            verb, _, rest = line.partition(" ")
            if verb == "send":
                child.sendline(rest)
                child.expect(PROMPT, timeout=120)
                out = child.before
            elif verb == "expect":
                if not re.search(rest, out):
                    raise AssertionError(f"expected /{rest}/ after the last command")
            elif verb == "reject":
                if re.search(rest, out):
                    raise AssertionError(f"did not expect /{rest}/")
            elif verb == "until":
                secs, text, regex = rest.split(" ", 2)
                end = time.time() + float(secs)
                while True:
                    child.sendline(text)
                    child.expect(PROMPT, timeout=60)
                    out = child.before
                    if re.search(regex, out):
                        break
                    if time.time() > end:
                        raise AssertionError(f"/{regex}/ never matched '{text}' in {secs} s")
                    time.sleep(1)
            else:
                raise AssertionError(f"bad step '{line}'")
            print(f"ok: {line}")
        child.sendline("quit")
        child.expect(pexpect.EOF, timeout=30)
    except (AssertionError, pexpect.ExceptionPexpect) as e:
        print(f"FAIL: {e}")
        print("---- transcript ----")
        print("".join(log)[-6000:])
        sys.exit(1)


if __name__ == "__main__":
    main()
