/** The agent API's zod schemas, from the contract package the registry uses too. */
export * from "@packr/agent-schemas";
