import type { Metadata } from "next";
import Link from "next/link";
import type { ReactNode } from "react";
import { currentUser } from "../src/server/session.ts";
import { signOut } from "./actions.ts";
import "./globals.css";

export const metadata: Metadata = { title: "Packr", description: "Packr registry dashboard" };

export default async function RootLayout({ children }: { children: ReactNode }) {
  const signedIn = await currentUser();
  return (
    <html lang="en">
      <body>
        <header className="top">
          <Link className="brand" href="/">
            Packr
          </Link>
          <nav>{signedIn ? <Link href="/tokens">Tokens</Link> : null}</nav>
          {signedIn ? (
            <form action={signOut} style={{ display: "flex", gap: "1rem", alignItems: "center" }}>
              <span className="who">{signedIn.user.email ?? signedIn.user.name}</span>
              <button className="secondary" type="submit">
                Sign out
              </button>
            </form>
          ) : null}
        </header>
        {children}
      </body>
    </html>
  );
}
