//! Telnet option negotiation (RFC 854, RFC 855), enough to read a login banner.
//!
//! Many telnet daemons ask about terminal type, speed and environment before they print
//! `login:`, and wait for answers. kenshin answers as the plainest possible client: it
//! agrees to the server echoing and suppressing go-ahead (as every client does) and
//! refuses everything else, once per option, so negotiation always ends. Data bytes
//! (with `IAC IAC` unescaped) are kept apart from the commands.

use crate::reader::DecodeError;

pub const IAC: u8 = 255;
pub const DONT: u8 = 254;
pub const DO: u8 = 253;
pub const WONT: u8 = 252;
pub const WILL: u8 = 251;
pub const SB: u8 = 250;
pub const SE: u8 = 240;

/// Longest subnegotiation accepted.
pub const MAX_SUBNEGOTIATION: usize = 1024;

/// A Telnet option code; unknown codes are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TelnetOption(pub u8);

impl TelnetOption {
    pub const ECHO: TelnetOption = TelnetOption(1);
    pub const SUPPRESS_GO_AHEAD: TelnetOption = TelnetOption(3);
    pub const STATUS: TelnetOption = TelnetOption(5);
    pub const TERMINAL_TYPE: TelnetOption = TelnetOption(24);
    pub const NAWS: TelnetOption = TelnetOption(31);
    pub const TERMINAL_SPEED: TelnetOption = TelnetOption(32);
    pub const LINEMODE: TelnetOption = TelnetOption(34);
    pub const XDISPLOC: TelnetOption = TelnetOption(35);
    pub const NEW_ENVIRON: TelnetOption = TelnetOption(39);

    /// The option's name, or `None` for one kenshin does not know.
    pub fn name(self) -> Option<&'static str> {
        Some(match self.0 {
            0 => "binary",
            1 => "echo",
            3 => "suppress-go-ahead",
            5 => "status",
            6 => "timing-mark",
            24 => "terminal-type",
            31 => "naws",
            32 => "terminal-speed",
            33 => "remote-flow-control",
            34 => "linemode",
            35 => "x-display-location",
            36 => "environ",
            37 => "authentication",
            38 => "encrypt",
            39 => "new-environ",
            _ => return None,
        })
    }
}

/// A command the server sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Will(TelnetOption),
    Wont(TelnetOption),
    Do(TelnetOption),
    Dont(TelnetOption),
    Subnegotiation(TelnetOption, Vec<u8>),
    /// Any other two-byte command (NOP, GA, AYT, …), by code.
    Other(u8),
}

/// What one call to [`Negotiator::feed`] produced.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Fed {
    /// Data bytes, unescaped.
    pub data: Vec<u8>,
    pub commands: Vec<Command>,
    /// Bytes to send back to the server.
    pub reply: Vec<u8>,
    /// Input bytes consumed; the rest is an unfinished command to feed again with more.
    pub consumed: usize,
}

/// Client-side negotiation state: which options have been answered.
#[derive(Debug, Clone)]
pub struct Negotiator {
    answered_do: [bool; 256],
    answered_will: [bool; 256],
}

impl Default for Negotiator {
    fn default() -> Self {
        Self {
            answered_do: [false; 256],
            answered_will: [false; 256],
        }
    }
}

impl Negotiator {
    /// Options whose WILL kenshin accepts (DO): the server echoing, and no go-ahead.
    fn accepts_will(opt: TelnetOption) -> bool {
        matches!(opt, TelnetOption::ECHO | TelnetOption::SUPPRESS_GO_AHEAD)
    }

    /// Processes received bytes.
    pub fn feed(&mut self, input: &[u8]) -> Result<Fed, DecodeError> {
        let mut out = Fed::default();
        let mut i = 0;
        while i < input.len() {
            if input[i] != IAC {
                out.data.push(input[i]);
                i += 1;
                continue;
            }
            let Some(&cmd) = input.get(i + 1) else { break };
            match cmd {
                IAC => {
                    out.data.push(IAC);
                    i += 2;
                }
                WILL | WONT | DO | DONT => {
                    let Some(&code) = input.get(i + 2) else { break };
                    let opt = TelnetOption(code);
                    out.commands.push(self.negotiate(cmd, opt, &mut out.reply));
                    i += 3;
                }
                SB => {
                    let Some(&code) = input.get(i + 2) else { break };
                    match find_se(&input[i + 3..])? {
                        Some((payload, len)) => {
                            out.commands
                                .push(Command::Subnegotiation(TelnetOption(code), payload));
                            i += 3 + len;
                        }
                        None => break,
                    }
                }
                other => {
                    out.commands.push(Command::Other(other));
                    i += 2;
                }
            }
        }
        // Either everything was read, or `i` is at the IAC of an unfinished command.
        out.consumed = i;
        Ok(out)
    }

    fn negotiate(&mut self, cmd: u8, opt: TelnetOption, reply: &mut Vec<u8>) -> Command {
        let idx = usize::from(opt.0);
        match cmd {
            WILL => {
                if !self.answered_will[idx] {
                    self.answered_will[idx] = true;
                    let answer = if Self::accepts_will(opt) { DO } else { DONT };
                    reply.extend([IAC, answer, opt.0]);
                }
                Command::Will(opt)
            }
            DO => {
                if !self.answered_do[idx] {
                    self.answered_do[idx] = true;
                    reply.extend([IAC, WONT, opt.0]);
                }
                Command::Do(opt)
            }
            WONT => Command::Wont(opt),
            _ => Command::Dont(opt),
        }
    }
}

/// Finds `IAC SE` after a subnegotiation start; returns the unescaped payload and the
/// bytes used including `IAC SE`, or `None` if it has not arrived yet.
fn find_se(buf: &[u8]) -> Result<Option<(Vec<u8>, usize)>, DecodeError> {
    let mut payload = Vec::new();
    let mut i = 0;
    while i < buf.len() {
        if payload.len() > MAX_SUBNEGOTIATION {
            return Err(DecodeError::TooLarge {
                field: "telnet subnegotiation",
                value: payload.len(),
                limit: MAX_SUBNEGOTIATION,
            });
        }
        if buf[i] == IAC {
            match buf.get(i + 1) {
                Some(&SE) => return Ok(Some((payload, i + 2))),
                Some(&IAC) => {
                    payload.push(IAC);
                    i += 2;
                    continue;
                }
                Some(_) => {
                    return Err(DecodeError::Invalid {
                        field: "telnet subnegotiation",
                        reason: "IAC inside a subnegotiation must be followed by SE or IAC",
                    })
                }
                None => return Ok(None),
            }
        }
        payload.push(buf[i]);
        i += 1;
    }
    if payload.len() > MAX_SUBNEGOTIATION {
        return Err(DecodeError::TooLarge {
            field: "telnet subnegotiation",
            value: payload.len(),
            limit: MAX_SUBNEGOTIATION,
        });
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The opening of inetutils-telnetd 2.4 on Debian 12: DO TTYPE, DO TSPEED,
    /// DO XDISPLOC, DO NEW-ENVIRON.
    const INETUTILS_OPENING: &[u8] = &[IAC, DO, 24, IAC, DO, 32, IAC, DO, 35, IAC, DO, 39];

    #[test]
    fn a_telnetd_opening_is_refused_option_by_option() {
        let mut n = Negotiator::default();
        let fed = n.feed(INETUTILS_OPENING).expect("valid");
        assert_eq!(fed.consumed, INETUTILS_OPENING.len());
        assert_eq!(
            fed.reply,
            vec![IAC, WONT, 24, IAC, WONT, 32, IAC, WONT, 35, IAC, WONT, 39]
        );
        assert!(fed.data.is_empty());
        // Asked again, kenshin does not answer again: negotiation cannot loop.
        assert!(n.feed(&[IAC, DO, 24]).expect("valid").reply.is_empty());
    }

    #[test]
    fn echo_and_suppress_go_ahead_are_accepted_and_other_wills_refused() {
        let mut n = Negotiator::default();
        let fed = n
            .feed(&[
                IAC, WILL, 1, IAC, WILL, 3, IAC, WILL, 34, b'l', b'o', b'g', b'i', b'n', b':',
            ])
            .expect("valid");
        assert_eq!(fed.reply, vec![IAC, DO, 1, IAC, DO, 3, IAC, DONT, 34]);
        assert_eq!(fed.data, b"login:");
    }

    #[test]
    fn escaped_iac_is_data_and_subnegotiations_are_collected() {
        let mut n = Negotiator::default();
        let fed = n
            .feed(&[
                b'a', IAC, IAC, b'b', IAC, SB, 24, 1, IAC, IAC, IAC, SE, IAC, 241,
            ])
            .expect("valid");
        assert_eq!(fed.data, vec![b'a', IAC, b'b']);
        assert_eq!(
            fed.commands,
            vec![
                Command::Subnegotiation(TelnetOption(24), vec![1, IAC]),
                Command::Other(241)
            ]
        );
    }

    #[test]
    fn an_unfinished_command_is_left_for_the_next_read() {
        let mut n = Negotiator::default();
        let fed = n.feed(&[b'h', b'i', IAC, DO]).expect("valid");
        assert_eq!(fed.data, b"hi");
        assert_eq!(fed.consumed, 2);
        let fed = n.feed(&[IAC, SB, 24, 1, 2]).expect("valid");
        assert_eq!(fed.consumed, 0);
    }

    #[test]
    fn an_endless_subnegotiation_is_refused() {
        let mut bytes = vec![IAC, SB, 24];
        bytes.extend(std::iter::repeat_n(0u8, MAX_SUBNEGOTIATION + 10));
        assert!(Negotiator::default().feed(&bytes).is_err());
    }

    #[test]
    fn option_names_are_known_or_kept_as_numbers() {
        assert_eq!(TelnetOption::TERMINAL_TYPE.name(), Some("terminal-type"));
        assert_eq!(TelnetOption(200).name(), None);
    }
}
