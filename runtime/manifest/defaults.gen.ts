/* Generated from runtime/manifest/sections/ by `switchyard types`. Do not edit: change the section spec instead. */
import type { DefaultsTree } from './sections/defaults-tree.ts';

/** The defaults the manifest's section specs declare, and where: what applyDefaults fills in. */
export const MANIFEST_DEFAULTS: DefaultsTree = {
  "top": {
    "defaults": {
      "d": {},
      "r": "Defaults"
    },
    "platform": {
      "d": {},
      "s": {
        "plan": {
          "d": "free"
        }
      }
    },
    "retention": {
      "d": {},
      "s": {
        "payloads": {
          "d": "30d"
        },
        "events": {
          "d": "90d"
        },
        "dead_letters": {
          "d": "90d"
        },
        "refusals": {
          "d": "7d"
        },
        "batch": {
          "d": 500
        }
      }
    },
    "integrations": {
      "v": {
        "r": "Integration"
      }
    },
    "limits": {
      "v": {
        "r": "Limit"
      }
    },
    "routes": {
      "v": {
        "r": "Route"
      }
    },
    "commands": {
      "v": {
        "r": "Command"
      }
    }
  },
  "definitions": {
    "Command": {
      "s": {
        "rpc": {
          "d": true
        },
        "apply": {
          "d": "auto"
        },
        "sync": {
          "s": {
            "cache": {
              "d": "1h"
            }
          }
        }
      }
    },
    "Defaults": {
      "s": {
        "retry": {
          "d": {
            "backoff": "exponential",
            "initial_delay": "30s",
            "max_delay": "1h",
            "jitter": 0.2,
            "max_attempts": 5
          }
        },
        "max_body": {
          "d": "1MiB"
        },
        "stuck_after": {
          "d": "15m"
        },
        "replay_window": {
          "d": "30d"
        }
      }
    },
    "Integration": {
      "s": {
        "methods": {
          "d": [
            "POST"
          ]
        },
        "format": {
          "d": "json"
        },
        "apply": {
          "d": "auto"
        },
        "response": {
          "r": "WebhookResponse"
        }
      }
    },
    "Limit": {
      "s": {
        "warn_at": {
          "d": 0.8
        },
        "on_exceed": {
          "d": "warn"
        },
        "counts": {
          "d": "sends"
        }
      }
    },
    "Route": {
      "s": {
        "keep_authorization": {
          "d": false
        },
        "analytics": {
          "r": "RouteAnalytics"
        }
      }
    },
    "RouteAnalytics": {
      "s": {
        "event": {
          "d": "api_request"
        },
        "query": {
          "d": false
        },
        "privacy": {
          "d": {},
          "s": {
            "ip": {
              "d": "truncated"
            },
            "country": {
              "d": true
            }
          }
        }
      }
    },
    "WebhookResponse": {
      "s": {
        "status": {
          "d": 200
        },
        "content_type": {
          "d": "application/json"
        }
      }
    }
  }
};
