// Values that travel along the pipeline: environment → logins → credentials → config change.

/** How a login gets its docker credentials (README, What it does: kinds). */
export type Kind = 'static' | 'ecr-token' | 'ecr-keys' | 'ecr-public-keys';

/** Where an ECR registry lives, read from its hostname. */
export interface EcrLocation {
  /** true for ECR Public (public.ecr.aws, ecr-public.aws.com); its API lives in us-east-1. */
  public: boolean;
  region: string;
  fips: boolean;
  dualStack: boolean;
  /** The DNS suffix after the region, e.g. amazonaws.com or amazonaws.com.cn. */
  dnsSuffix: string;
  accountId?: string;
}

/** A complete `<PREFIX>_CONTAINER_REGISTRY_*` group as found in the environment. */
export interface Triple {
  prefix: string;
  server: string;
  user: string;
  password: string;
  sessionToken?: string;
  /** A role the keys assume before the ECR swap (README, Roles); not a secret. */
  roleArn?: string;
  /** The role's external ID: a secret, never printed. */
  externalId?: string;
}

/** A triple with its docker config key and kind. */
export interface Login extends Triple {
  key: string;
  kind: Kind;
  ecr?: EcrLocation;
}

/** Something wrong with one prefix; the message never holds a value that may be a secret. */
export interface Problem {
  prefix: string;
  message: string;
}

/** What docker is given for a registry. */
export interface Credentials {
  username: string;
  secret: string;
  /** When the credentials stop working (ECR tokens). */
  expiresAt?: Date;
  /** When the credentials were issued (ECR tokens), for the half-life rule. */
  issuedAt?: Date;
}

/** The outcome of resolving one login. */
export type Resolved = (
  | { login: Login; ok: true; credentials: Credentials }
  | {
      login: Login;
      ok: false;
      error: string;
      /** 'role': assuming the login's role failed (check says so), not the registry swap itself. */
      failedAt?: 'role';
    }
) & {
  /** Secrets met on the way that are not the credentials (a role's session keys), for the redactor. */
  hidden?: string[];
};
