/** A record without a prototype holding the sources' own members: a key such as "__proto__" is data like any other. */
export function dictionary<T>(...sources: (Readonly<Record<string, T>> | undefined)[]): Record<string, T> {
  return Object.assign(Object.create(null) as Record<string, T>, ...sources);
}
