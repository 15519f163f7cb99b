/** The React example's page: one player for a try-play link. */
import { createRoot } from "react-dom/client";
import { PlayrackPlayer } from "./PlayrackPlayer.js";

const root = document.getElementById("root");
if (root) {
  createRoot(root).render(
    <PlayrackPlayer
      apiBase="https://playrack.example.com"
      target={{ link: "YOUR-LINK-CODE" }}
      onEnded={(reason) => console.log("the play ended:", reason)}
    />,
  );
}
