var re=Object.defineProperty;var oe=(i,t,e)=>t in i?re(i,t,{enumerable:!0,configurable:!0,writable:!0,value:e}):i[t]=e;var m=(i,t,e)=>oe(i,typeof t!="symbol"?t+"":t,e);var X=globalThis,tt=X.ShadowRoot&&(X.ShadyCSS===void 0||X.ShadyCSS.nativeShadow)&&"adoptedStyleSheets"in Document.prototype&&"replace"in CSSStyleSheet.prototype,pt=Symbol(),Ct=new WeakMap,z=class{constructor(t,e,s){if(this._$cssResult$=!0,s!==pt)throw Error("CSSResult is not constructable. Use `unsafeCSS` or `css` instead.");this.cssText=t,this.t=e}get styleSheet(){let t=this.o,e=this.t;if(tt&&t===void 0){let s=e!==void 0&&e.length===1;s&&(t=Ct.get(e)),t===void 0&&((this.o=t=new CSSStyleSheet).replaceSync(this.cssText),s&&Ct.set(e,t))}return t}toString(){return this.cssText}},Ot=i=>new z(typeof i=="string"?i:i+"",void 0,pt),b=(i,...t)=>{let e=i.length===1?i[0]:t.reduce((s,r,o)=>s+(a=>{if(a._$cssResult$===!0)return a.cssText;if(typeof a=="number")return a;throw Error("Value passed to 'css' function must be a 'css' function result: "+a+". Use 'unsafeCSS' to pass non-literal values, but take care to ensure page security.")})(r)+i[o+1],i[0]);return new z(e,i,pt)},Mt=(i,t)=>{if(tt)i.adoptedStyleSheets=t.map(e=>e instanceof CSSStyleSheet?e:e.styleSheet);else for(let e of t){let s=document.createElement("style"),r=X.litNonce;r!==void 0&&s.setAttribute("nonce",r),s.textContent=e.cssText,i.appendChild(s)}},ut=tt?i=>i:i=>i instanceof CSSStyleSheet?(t=>{let e="";for(let s of t.cssRules)e+=s.cssText;return Ot(e)})(i):i;var{is:ae,defineProperty:ne,getOwnPropertyDescriptor:ce,getOwnPropertyNames:le,getOwnPropertySymbols:de,getPrototypeOf:he}=Object,et=globalThis,Nt=et.trustedTypes,pe=Nt?Nt.emptyScript:"",ue=et.reactiveElementPolyfillSupport,H=(i,t)=>i,mt={toAttribute(i,t){switch(t){case Boolean:i=i?pe:null;break;case Object:case Array:i=i==null?i:JSON.stringify(i)}return i},fromAttribute(i,t){let e=i;switch(t){case Boolean:e=i!==null;break;case Number:e=i===null?null:Number(i);break;case Object:case Array:try{e=JSON.parse(i)}catch{e=null}}return e}},Pt=(i,t)=>!ae(i,t),Ut={attribute:!0,type:String,converter:mt,reflect:!1,useDefault:!1,hasChanged:Pt};Symbol.metadata??=Symbol("metadata"),et.litPropertyMetadata??=new WeakMap;var y=class extends HTMLElement{static addInitializer(t){this._$Ei(),(this.l??=[]).push(t)}static get observedAttributes(){return this.finalize(),this._$Eh&&[...this._$Eh.keys()]}static createProperty(t,e=Ut){if(e.state&&(e.attribute=!1),this._$Ei(),this.prototype.hasOwnProperty(t)&&((e=Object.create(e)).wrapped=!0),this.elementProperties.set(t,e),!e.noAccessor){let s=Symbol(),r=this.getPropertyDescriptor(t,s,e);r!==void 0&&ne(this.prototype,t,r)}}static getPropertyDescriptor(t,e,s){let{get:r,set:o}=ce(this.prototype,t)??{get(){return this[e]},set(a){this[e]=a}};return{get:r,set(a){let l=r?.call(this);o?.call(this,a),this.requestUpdate(t,l,s)},configurable:!0,enumerable:!0}}static getPropertyOptions(t){return this.elementProperties.get(t)??Ut}static _$Ei(){if(this.hasOwnProperty(H("elementProperties")))return;let t=he(this);t.finalize(),t.l!==void 0&&(this.l=[...t.l]),this.elementProperties=new Map(t.elementProperties)}static finalize(){if(this.hasOwnProperty(H("finalized")))return;if(this.finalized=!0,this._$Ei(),this.hasOwnProperty(H("properties"))){let e=this.properties,s=[...le(e),...de(e)];for(let r of s)this.createProperty(r,e[r])}let t=this[Symbol.metadata];if(t!==null){let e=litPropertyMetadata.get(t);if(e!==void 0)for(let[s,r]of e)this.elementProperties.set(s,r)}this._$Eh=new Map;for(let[e,s]of this.elementProperties){let r=this._$Eu(e,s);r!==void 0&&this._$Eh.set(r,e)}this.elementStyles=this.finalizeStyles(this.styles)}static finalizeStyles(t){let e=[];if(Array.isArray(t)){let s=new Set(t.flat(1/0).reverse());for(let r of s)e.unshift(ut(r))}else t!==void 0&&e.push(ut(t));return e}static _$Eu(t,e){let s=e.attribute;return s===!1?void 0:typeof s=="string"?s:typeof t=="string"?t.toLowerCase():void 0}constructor(){super(),this._$Ep=void 0,this.isUpdatePending=!1,this.hasUpdated=!1,this._$Em=null,this._$Ev()}_$Ev(){this._$ES=new Promise(t=>this.enableUpdating=t),this._$AL=new Map,this._$E_(),this.requestUpdate(),this.constructor.l?.forEach(t=>t(this))}addController(t){(this._$EO??=new Set).add(t),this.renderRoot!==void 0&&this.isConnected&&t.hostConnected?.()}removeController(t){this._$EO?.delete(t)}_$E_(){let t=new Map,e=this.constructor.elementProperties;for(let s of e.keys())this.hasOwnProperty(s)&&(t.set(s,this[s]),delete this[s]);t.size>0&&(this._$Ep=t)}createRenderRoot(){let t=this.shadowRoot??this.attachShadow(this.constructor.shadowRootOptions);return Mt(t,this.constructor.elementStyles),t}connectedCallback(){this.renderRoot??=this.createRenderRoot(),this.enableUpdating(!0),this._$EO?.forEach(t=>t.hostConnected?.())}enableUpdating(t){}disconnectedCallback(){this._$EO?.forEach(t=>t.hostDisconnected?.())}attributeChangedCallback(t,e,s){this._$AK(t,s)}_$ET(t,e){let s=this.constructor.elementProperties.get(t),r=this.constructor._$Eu(t,s);if(r!==void 0&&s.reflect===!0){let o=(s.converter?.toAttribute!==void 0?s.converter:mt).toAttribute(e,s.type);this._$Em=t,o==null?this.removeAttribute(r):this.setAttribute(r,o),this._$Em=null}}_$AK(t,e){let s=this.constructor,r=s._$Eh.get(t);if(r!==void 0&&this._$Em!==r){let o=s.getPropertyOptions(r),a=typeof o.converter=="function"?{fromAttribute:o.converter}:o.converter?.fromAttribute!==void 0?o.converter:mt;this._$Em=r;let l=a.fromAttribute(e,o.type);this[r]=l??this._$Ej?.get(r)??l,this._$Em=null}}requestUpdate(t,e,s,r=!1,o){if(t!==void 0){let a=this.constructor;if(r===!1&&(o=this[t]),s??=a.getPropertyOptions(t),!((s.hasChanged??Pt)(o,e)||s.useDefault&&s.reflect&&o===this._$Ej?.get(t)&&!this.hasAttribute(a._$Eu(t,s))))return;this.C(t,e,s)}this.isUpdatePending===!1&&(this._$ES=this._$EP())}C(t,e,{useDefault:s,reflect:r,wrapped:o},a){s&&!(this._$Ej??=new Map).has(t)&&(this._$Ej.set(t,a??e??this[t]),o!==!0||a!==void 0)||(this._$AL.has(t)||(this.hasUpdated||s||(e=void 0),this._$AL.set(t,e)),r===!0&&this._$Em!==t&&(this._$Eq??=new Set).add(t))}async _$EP(){this.isUpdatePending=!0;try{await this._$ES}catch(e){Promise.reject(e)}let t=this.scheduleUpdate();return t!=null&&await t,!this.isUpdatePending}scheduleUpdate(){return this.performUpdate()}performUpdate(){if(!this.isUpdatePending)return;if(!this.hasUpdated){if(this.renderRoot??=this.createRenderRoot(),this._$Ep){for(let[r,o]of this._$Ep)this[r]=o;this._$Ep=void 0}let s=this.constructor.elementProperties;if(s.size>0)for(let[r,o]of s){let{wrapped:a}=o,l=this[r];a!==!0||this._$AL.has(r)||l===void 0||this.C(r,void 0,o,l)}}let t=!1,e=this._$AL;try{t=this.shouldUpdate(e),t?(this.willUpdate(e),this._$EO?.forEach(s=>s.hostUpdate?.()),this.update(e)):this._$EM()}catch(s){throw t=!1,this._$EM(),s}t&&this._$AE(e)}willUpdate(t){}_$AE(t){this._$EO?.forEach(e=>e.hostUpdated?.()),this.hasUpdated||(this.hasUpdated=!0,this.firstUpdated(t)),this.updated(t)}_$EM(){this._$AL=new Map,this.isUpdatePending=!1}get updateComplete(){return this.getUpdateComplete()}getUpdateComplete(){return this._$ES}shouldUpdate(t){return!0}update(t){this._$Eq&&=this._$Eq.forEach(e=>this._$ET(e,this[e])),this._$EM()}updated(t){}firstUpdated(t){}};y.elementStyles=[],y.shadowRootOptions={mode:"open"},y[H("elementProperties")]=new Map,y[H("finalized")]=new Map,ue?.({ReactiveElement:y}),(et.reactiveElementVersions??=[]).push("2.1.2");var yt=globalThis,Tt=i=>i,st=yt.trustedTypes,Lt=st?st.createPolicy("lit-html",{createHTML:i=>i}):void 0,jt="$lit$",A=`lit$${Math.random().toFixed(9).slice(2)}$`,Dt="?"+A,me=`<${Dt}>`,O=document,B=()=>O.createComment(""),j=i=>i===null||typeof i!="object"&&typeof i!="function",xt=Array.isArray,fe=i=>xt(i)||typeof i?.[Symbol.iterator]=="function",ft=`[ 	
\f\r]`,F=/<(?:(!--|\/[^a-zA-Z])|(\/?[a-zA-Z][^>\s]*)|(\/?$))/g,Rt=/-->/g,zt=/>/g,S=RegExp(`>|${ft}(?:([^\\s"'>=/]+)(${ft}*=${ft}*(?:[^ 	
\f\r"'\`<>=]|("|')|))|$)`,"g"),Ht=/'/g,Ft=/"/g,It=/^(?:script|style|textarea|title)$/i,wt=i=>(t,...e)=>({_$litType$:i,strings:t,values:e}),n=wt(1),T=wt(2),Oe=wt(3),M=Symbol.for("lit-noChange"),f=Symbol.for("lit-nothing"),Bt=new WeakMap,C=O.createTreeWalker(O,129);function Kt(i,t){if(!xt(i)||!i.hasOwnProperty("raw"))throw Error("invalid template strings array");return Lt!==void 0?Lt.createHTML(t):t}var ve=(i,t)=>{let e=i.length-1,s=[],r,o=t===2?"<svg>":t===3?"<math>":"",a=F;for(let l=0;l<e;l++){let c=i[l],d,p,h=-1,$=0;for(;$<c.length&&(a.lastIndex=$,p=a.exec(c),p!==null);)$=a.lastIndex,a===F?p[1]==="!--"?a=Rt:p[1]!==void 0?a=zt:p[2]!==void 0?(It.test(p[2])&&(r=RegExp("</"+p[2],"g")),a=S):p[3]!==void 0&&(a=S):a===S?p[0]===">"?(a=r??F,h=-1):p[1]===void 0?h=-2:(h=a.lastIndex-p[2].length,d=p[1],a=p[3]===void 0?S:p[3]==='"'?Ft:Ht):a===Ft||a===Ht?a=S:a===Rt||a===zt?a=F:(a=S,r=void 0);let g=a===S&&i[l+1].startsWith("/>")?" ":"";o+=a===F?c+me:h>=0?(s.push(d),c.slice(0,h)+jt+c.slice(h)+A+g):c+A+(h===-2?l:g)}return[Kt(i,o+(i[e]||"<?>")+(t===2?"</svg>":t===3?"</math>":"")),s]},D=class i{constructor({strings:t,_$litType$:e},s){let r;this.parts=[];let o=0,a=0,l=t.length-1,c=this.parts,[d,p]=ve(t,e);if(this.el=i.createElement(d,s),C.currentNode=this.el.content,e===2||e===3){let h=this.el.content.firstChild;h.replaceWith(...h.childNodes)}for(;(r=C.nextNode())!==null&&c.length<l;){if(r.nodeType===1){if(r.hasAttributes())for(let h of r.getAttributeNames())if(h.endsWith(jt)){let $=p[a++],g=r.getAttribute(h).split(A),k=/([.?@])?(.*)/.exec($);c.push({type:1,index:o,name:k[2],strings:g,ctor:k[1]==="."?bt:k[1]==="?"?$t:k[1]==="@"?_t:P}),r.removeAttribute(h)}else h.startsWith(A)&&(c.push({type:6,index:o}),r.removeAttribute(h));if(It.test(r.tagName)){let h=r.textContent.split(A),$=h.length-1;if($>0){r.textContent=st?st.emptyScript:"";for(let g=0;g<$;g++)r.append(h[g],B()),C.nextNode(),c.push({type:2,index:++o});r.append(h[$],B())}}}else if(r.nodeType===8)if(r.data===Dt)c.push({type:2,index:o});else{let h=-1;for(;(h=r.data.indexOf(A,h+1))!==-1;)c.push({type:7,index:o}),h+=A.length-1}o++}}static createElement(t,e){let s=O.createElement("template");return s.innerHTML=t,s}};function U(i,t,e=i,s){if(t===M)return t;let r=s!==void 0?e._$Co?.[s]:e._$Cl,o=j(t)?void 0:t._$litDirective$;return r?.constructor!==o&&(r?._$AO?.(!1),o===void 0?r=void 0:(r=new o(i),r._$AT(i,e,s)),s!==void 0?(e._$Co??=[])[s]=r:e._$Cl=r),r!==void 0&&(t=U(i,r._$AS(i,t.values),r,s)),t}var vt=class{constructor(t,e){this._$AV=[],this._$AN=void 0,this._$AD=t,this._$AM=e}get parentNode(){return this._$AM.parentNode}get _$AU(){return this._$AM._$AU}u(t){let{el:{content:e},parts:s}=this._$AD,r=(t?.creationScope??O).importNode(e,!0);C.currentNode=r;let o=C.nextNode(),a=0,l=0,c=s[0];for(;c!==void 0;){if(a===c.index){let d;c.type===2?d=new I(o,o.nextSibling,this,t):c.type===1?d=new c.ctor(o,c.name,c.strings,this,t):c.type===6&&(d=new gt(o,this,t)),this._$AV.push(d),c=s[++l]}a!==c?.index&&(o=C.nextNode(),a++)}return C.currentNode=O,r}p(t){let e=0;for(let s of this._$AV)s!==void 0&&(s.strings!==void 0?(s._$AI(t,s,e),e+=s.strings.length-2):s._$AI(t[e])),e++}},I=class i{get _$AU(){return this._$AM?._$AU??this._$Cv}constructor(t,e,s,r){this.type=2,this._$AH=f,this._$AN=void 0,this._$AA=t,this._$AB=e,this._$AM=s,this.options=r,this._$Cv=r?.isConnected??!0}get parentNode(){let t=this._$AA.parentNode,e=this._$AM;return e!==void 0&&t?.nodeType===11&&(t=e.parentNode),t}get startNode(){return this._$AA}get endNode(){return this._$AB}_$AI(t,e=this){t=U(this,t,e),j(t)?t===f||t==null||t===""?(this._$AH!==f&&this._$AR(),this._$AH=f):t!==this._$AH&&t!==M&&this._(t):t._$litType$!==void 0?this.$(t):t.nodeType!==void 0?this.T(t):fe(t)?this.k(t):this._(t)}O(t){return this._$AA.parentNode.insertBefore(t,this._$AB)}T(t){this._$AH!==t&&(this._$AR(),this._$AH=this.O(t))}_(t){this._$AH!==f&&j(this._$AH)?this._$AA.nextSibling.data=t:this.T(O.createTextNode(t)),this._$AH=t}$(t){let{values:e,_$litType$:s}=t,r=typeof s=="number"?this._$AC(t):(s.el===void 0&&(s.el=D.createElement(Kt(s.h,s.h[0]),this.options)),s);if(this._$AH?._$AD===r)this._$AH.p(e);else{let o=new vt(r,this),a=o.u(this.options);o.p(e),this.T(a),this._$AH=o}}_$AC(t){let e=Bt.get(t.strings);return e===void 0&&Bt.set(t.strings,e=new D(t)),e}k(t){xt(this._$AH)||(this._$AH=[],this._$AR());let e=this._$AH,s,r=0;for(let o of t)r===e.length?e.push(s=new i(this.O(B()),this.O(B()),this,this.options)):s=e[r],s._$AI(o),r++;r<e.length&&(this._$AR(s&&s._$AB.nextSibling,r),e.length=r)}_$AR(t=this._$AA.nextSibling,e){for(this._$AP?.(!1,!0,e);t!==this._$AB;){let s=Tt(t).nextSibling;Tt(t).remove(),t=s}}setConnected(t){this._$AM===void 0&&(this._$Cv=t,this._$AP?.(t))}},P=class{get tagName(){return this.element.tagName}get _$AU(){return this._$AM._$AU}constructor(t,e,s,r,o){this.type=1,this._$AH=f,this._$AN=void 0,this.element=t,this.name=e,this._$AM=r,this.options=o,s.length>2||s[0]!==""||s[1]!==""?(this._$AH=Array(s.length-1).fill(new String),this.strings=s):this._$AH=f}_$AI(t,e=this,s,r){let o=this.strings,a=!1;if(o===void 0)t=U(this,t,e,0),a=!j(t)||t!==this._$AH&&t!==M,a&&(this._$AH=t);else{let l=t,c,d;for(t=o[0],c=0;c<o.length-1;c++)d=U(this,l[s+c],e,c),d===M&&(d=this._$AH[c]),a||=!j(d)||d!==this._$AH[c],d===f?t=f:t!==f&&(t+=(d??"")+o[c+1]),this._$AH[c]=d}a&&!r&&this.j(t)}j(t){t===f?this.element.removeAttribute(this.name):this.element.setAttribute(this.name,t??"")}},bt=class extends P{constructor(){super(...arguments),this.type=3}j(t){this.element[this.name]=t===f?void 0:t}},$t=class extends P{constructor(){super(...arguments),this.type=4}j(t){this.element.toggleAttribute(this.name,!!t&&t!==f)}},_t=class extends P{constructor(t,e,s,r,o){super(t,e,s,r,o),this.type=5}_$AI(t,e=this){if((t=U(this,t,e,0)??f)===M)return;let s=this._$AH,r=t===f&&s!==f||t.capture!==s.capture||t.once!==s.once||t.passive!==s.passive,o=t!==f&&(s===f||r);r&&this.element.removeEventListener(this.name,this,s),o&&this.element.addEventListener(this.name,this,t),this._$AH=t}handleEvent(t){typeof this._$AH=="function"?this._$AH.call(this.options?.host??this.element,t):this._$AH.handleEvent(t)}},gt=class{constructor(t,e,s){this.element=t,this.type=6,this._$AN=void 0,this._$AM=e,this.options=s}get _$AU(){return this._$AM._$AU}_$AI(t){U(this,t)}};var be=yt.litHtmlPolyfillSupport;be?.(D,I),(yt.litHtmlVersions??=[]).push("3.3.3");var Wt=(i,t,e)=>{let s=e?.renderBefore??t,r=s._$litPart$;if(r===void 0){let o=e?.renderBefore??null;s._$litPart$=r=new I(t.insertBefore(B(),o),o,void 0,e??{})}return r._$AI(i),r};var kt=globalThis,v=class extends y{constructor(){super(...arguments),this.renderOptions={host:this},this._$Do=void 0}createRenderRoot(){let t=super.createRenderRoot();return this.renderOptions.renderBefore??=t.firstChild,t}update(t){let e=this.render();this.hasUpdated||(this.renderOptions.isConnected=this.isConnected),super.update(t),this._$Do=Wt(e,this.renderRoot,this.renderOptions)}connectedCallback(){super.connectedCallback(),this._$Do?.setConnected(!0)}disconnectedCallback(){super.disconnectedCallback(),this._$Do?.setConnected(!1)}render(){return M}};v._$litElement$=!0,v.finalized=!0,kt.litElementHydrateSupport?.({LitElement:v});var $e=kt.litElementPolyfillSupport;$e?.({LitElement:v});(kt.litElementVersions??=[]).push("4.2.2");var it=new Set,rt,K,qt;function W(i,t){return it.add(t),rt&&t(rt),(!K||qt!==i.connection)&&(qt=i.connection,K=i.connection.subscribeMessage(e=>{rt=e;for(let s of it)s(e)},{type:"totem/devices/subscribe"})),()=>{if(it.delete(t),!it.size&&K){let e=K;K=void 0,rt=void 0,e.then(s=>s()).catch(()=>{})}}}var _=b`
  :host {
    color: var(--primary-text-color);
    font-family: var(--paper-font-body1_-_font-family, var(--ha-font-family-body, Roboto, sans-serif));
  }
  ha-card {
    display: block;
    background: var(--ha-card-background, var(--card-background-color, #fff));
    border-radius: var(--ha-card-border-radius, 12px);
    border: var(--ha-card-border-width, 1px) solid var(--ha-card-border-color, var(--divider-color, #e0e0e0));
    box-shadow: var(--ha-card-box-shadow, none);
    color: var(--primary-text-color);
  }
  .muted { color: var(--secondary-text-color); }
  .chip {
    display: inline-block;
    padding: 1px 8px;
    border-radius: 10px;
    font-size: 12px;
    line-height: 18px;
    background: var(--secondary-background-color);
    color: var(--primary-text-color);
    white-space: nowrap;
  }
  .chip.warn { background: var(--warning-color, #ffa600); color: var(--text-primary-color, #fff); }
  .chip.bad { background: var(--error-color, #db4437); color: var(--text-primary-color, #fff); }
  .chip.ok { background: var(--success-color, #43a047); color: var(--text-primary-color, #fff); }
  .dot { display: inline-block; width: 8px; height: 8px; border-radius: 50%; margin-right: 6px; background: var(--disabled-text-color, #bdbdbd); }
  .dot.on { background: var(--success-color, #43a047); }
  button.btn {
    font: inherit;
    cursor: pointer;
    border: 1px solid var(--primary-color);
    color: var(--primary-color);
    background: transparent;
    border-radius: 18px;
    padding: 4px 14px;
  }
  button.btn.primary { background: var(--primary-color); color: var(--text-primary-color, #fff); }
  button.btn.danger { border-color: var(--error-color, #db4437); background: var(--error-color, #db4437); color: var(--text-primary-color, #fff); }
  button.btn:disabled { opacity: 0.5; cursor: default; }
  input, select {
    font: inherit;
    color: var(--primary-text-color);
    background: var(--input-fill-color, var(--secondary-background-color));
    border: 1px solid var(--input-idle-line-color, var(--divider-color));
    border-radius: 6px;
    padding: 5px 8px;
  }
  svg.spark polyline, svg.spark line { fill: none; stroke: var(--primary-color); stroke-width: 1.5; }
  svg.chart { width: 100%; height: auto; display: block; }
  svg.chart .grid { stroke: var(--divider-color); stroke-width: 1; }
  svg.chart .axis { fill: var(--secondary-text-color); font-size: 11px; }
  svg.chart .tx { fill: none; stroke: var(--primary-color); stroke-width: 2; }
  svg.chart .rx { fill: none; stroke: var(--accent-color, #ff9800); stroke-width: 2; }
  svg.chart .tx-area { fill: var(--primary-color); opacity: 0.12; }
  svg.chart .rx-area { fill: var(--accent-color, #ff9800); opacity: 0.12; }
  .legend-tx { color: var(--primary-color); }
  .legend-rx { color: var(--accent-color, #ff9800); }
`;var Vt=["B","kB","MB","GB","TB"];function x(i){if(i==null||Number.isNaN(i))return"—";let t=Number(i),e=0;for(;t>=1e3&&e<Vt.length-1;)t/=1e3,e+=1;if(e===0)return`${Math.round(t)} B`;let s=t>=100?0:t>=10?1:2;return`${t.toFixed(s)} ${Vt[e]}`}function At(i){if(i==null)return"—";let t=i*1e3;return t<1e3?`${Math.round(t)} bit/s`:t<1e6?`${(t/1e3).toFixed(t<1e4?2:1)} kbit/s`:`${(t/1e6).toFixed(t<1e7?2:1)} Mbit/s`}function ot(i,t=Date.now()/1e3){if(i==null)return"never";let e=Math.max(0,t-i);return e<60?"just now":e<3600?`${Math.floor(e/60)} min ago`:e<86400?`${Math.floor(e/3600)} h ago`:`${Math.floor(e/86400)} d ago`}function q(i){return i==null?"—":new Date(i*1e3).toLocaleString([],{month:"short",day:"numeric",hour:"2-digit",minute:"2-digit"})}function at(i){return i<3600?`${Math.round(i/60)} min`:i<86400?`${Math.round(i/3600)} h`:`${Math.round(i/86400)} d`}var L={router:"mdi:router-network",access_point:"mdi:access-point",laptop:"mdi:laptop",desktop:"mdi:desktop-tower-monitor",phone:"mdi:cellphone",tablet:"mdi:tablet",tv:"mdi:television",media_player:"mdi:cast",smart_speaker:"mdi:speaker",camera:"mdi:cctv",printer:"mdi:printer",nas:"mdi:nas",game_console:"mdi:controller",smart_plug:"mdi:power-socket-eu",light:"mdi:lightbulb",hub:"mdi:hub",sensor:"mdi:motion-sensor",iot:"mdi:chip",unknown:"mdi:help-network"};function E(i){return(i||"unknown").replace(/_/g," ")}function R(i){return(i||"").replace(/_/g," ")}var V={info:"var(--info-color, #039be5)",warning:"var(--warning-color, #ffa600)",critical:"var(--error-color, #db4437)"};function Yt(i,t=80,e=20){if(!i||i.length<2)return T`<svg class="spark" width=${t} height=${e}><line x1="0" y1=${e-1} x2=${t} y2=${e-1} /></svg>`;let s=Math.max(...i,1),r=t/(i.length-1),o=i.map((a,l)=>`${(l*r).toFixed(1)},${(e-1-a/s*(e-2)).toFixed(1)}`);return T`<svg class="spark" width=${t} height=${e} viewBox="0 0 ${t} ${e}"><polyline points=${o.join(" ")} /></svg>`}function Gt(i,t,e,s){let r=Math.max(1,Math.ceil((e-t)/s)),o=new Array(r).fill(0),a=new Array(r).fill(0);for(let[l,c,d]of i||[]){let p=Math.floor((l-t)/s);p>=0&&p<r&&(o[p]+=c,a[p]+=d)}return{tx:o,rx:a}}function Jt({tx:i,rx:t},e,s,r,o=640,a=180){let l={l:56,r:8,t:8,b:22},c=o-l.l-l.r,d=a-l.t-l.b,p=i.length,h=Math.max(...i,...t,1),$=u=>l.l+(p<=1?0:u/(p-1)*c),g=u=>l.t+d-u/h*d,k=u=>u.map((ht,ie)=>`${$(ie).toFixed(1)},${g(ht).toFixed(1)}`).join(" "),St=u=>`${l.l},${l.t+d} ${k(u)} ${$(p-1).toFixed(1)},${l.t+d}`,ee=(h>=10?[0,.5,1]:[0,1]).map(u=>({v:h*u,y:g(h*u)})),se=[0,Math.floor((p-1)/2),p-1].map((u,ht)=>({x:$(u),anchor:["start","middle","end"][ht],text:new Date((e+u*s)*1e3).toLocaleString([],s>=3600?{weekday:"short",hour:"2-digit"}:{hour:"2-digit",minute:"2-digit"})}));return T`<svg class="chart" viewBox="0 0 ${o} ${a}" role="img" aria-label="traffic chart">
    ${ee.map(u=>T`<line class="grid" x1=${l.l} x2=${o-l.r} y1=${u.y} y2=${u.y} /><text class="axis" x=${l.l-4} y=${u.y+4} text-anchor="end">${r(u.v)}</text>`)}
    ${se.map(u=>T`<text class="axis" x=${u.x} y=${a-6} text-anchor=${u.anchor}>${u.text}</text>`)}
    <polygon class="rx-area" points=${St(t)} />
    <polyline class="rx" points=${k(t)} />
    <polygon class="tx-area" points=${St(i)} />
    <polyline class="tx" points=${k(i)} />
  </svg>`}var w={name:{label:"Name",value:i=>(i.name||"").toLowerCase()},vendor:{label:"Vendor",value:i=>(i.vendor||"").toLowerCase()},type:{label:"Type",value:i=>i.type},ips:{label:"IP",value:i=>_e(i.ips[0])},seen:{label:"Online",value:i=>(i.online?2e12:0)+(i.last_seen||0)},rate:{label:"Up / down",value:i=>(i.up_kbps||0)+(i.down_kbps||0)},traffic:{label:"Traffic",value:i=>i.tx_bytes+i.rx_bytes},alerts:{label:"Alerts 24 h",value:i=>i.alerts_24h*1e3+i.open_alerts},access:{label:"Access",value:i=>i.pending_approval?2:i.blocked?1:0}},Zt=Object.keys(w);function _e(i){return i?i.includes(".")?`0${i.split(".").map(t=>t.padStart(3,"0")).join(".")}`:`1${i}`:"~"}function ge(i,t){let e=(t.search||"").trim().toLowerCase();return i.filter(s=>t.type&&s.type!==t.type||t.online==="online"&&!s.online||t.online==="offline"&&s.online||t.alerts&&!s.alerts_24h||t.blocked&&!s.blocked||t.waiting&&!s.pending_approval?!1:e?[s.name,s.vendor,s.mac,s.type,...s.ips].some(r=>r&&String(r).toLowerCase().includes(e)):!0)}function ye(i,t,e){let s=w[t]||w.name,r=[...i].sort((o,a)=>{let l=s.value(o),c=s.value(a);return(typeof l=="string"?l.localeCompare(c,void 0,{numeric:!0}):l<c?-1:l>c?1:0)||(o.name||"").localeCompare(a.name||"",void 0,{numeric:!0})});return e?r.reverse():r}var Y=class extends v{constructor(){super(),this.devices=[],this.columns=Zt,this.filters={},this.showFilters=!0,this.sortKey="traffic",this.sortDesc=!0}_sort(t){this.sortKey===t?this.sortDesc=!this.sortDesc:(this.sortKey=t,this.sortDesc=["rate","traffic","alerts","seen","access"].includes(t))}_setFilter(t,e){this.filters={...this.filters,[t]:e},this.dispatchEvent(new CustomEvent("filters-changed",{detail:this.filters}))}_open(t){this.dispatchEvent(new CustomEvent("device-selected",{detail:t,bubbles:!0,composed:!0}))}_cell(t,e){switch(t){case"name":return n`<td class="name"><span class="dot ${e.online?"on":""}"></span>${e.name}${e.new&&!this.compact?n` <span class="chip">new</span>`:""}</td>`;case"vendor":return n`<td class="hide-narrow" title=${e.manufacturer||""}>${e.vendor||n`<span class="muted">—</span>`}</td>`;case"type":return n`<td title=${e.type_reason||"no evidence yet"}><ha-icon .icon=${L[e.type]||L.unknown}></ha-icon><span class="hide-narrow"> ${E(e.type)}</span></td>`;case"ips":return n`<td class="hide-narrow mono">${e.ips.length?e.ips[0]:"—"}${e.ips.length>1?n` <span class="muted">+${e.ips.length-1}</span>`:""}</td>`;case"seen":return n`<td>${e.online?n`<span class="chip ok">online</span>`:n`<span class="muted">${ot(e.last_seen)}</span>`}</td>`;case"rate":return n`<td class="num"><div class="rate"><span>↑ ${At(e.up_kbps)}<br />↓ ${At(e.down_kbps)}</span>${this.compact?"":Yt(e.spark,64,22)}</div></td>`;case"traffic":return n`<td class="num" title="sent ${x(e.tx_bytes)}, received ${x(e.rx_bytes)}">${x(e.tx_bytes+e.rx_bytes)}</td>`;case"alerts":return n`<td class="num">${e.alerts_24h?n`<span class="chip ${e.open_alerts?"warn":""}">${e.alerts_24h}</span>`:n`<span class="muted">0</span>`}</td>`;case"access":return e.pending_approval?n`<td><span class="chip warn">waiting</span></td>`:n`<td>${e.blocked?n`<span class="chip bad">blocked</span>`:n`<span class="muted">allowed</span>`}</td>`;default:return n`<td></td>`}}render(){let t=(this.columns||Zt).filter(a=>w[a]),e=[...new Set(this.devices.map(a=>a.type))].sort(),s=ye(ge(this.devices,this.filters),this.sortKey,this.sortDesc),r=this.limit?s.slice(0,this.limit):s,o=this.filters;return n`
      ${this.showFilters?n`<div class="filters">
            <input type="search" placeholder="Search name, vendor, MAC, IP" .value=${o.search||""}
              @input=${a=>this._setFilter("search",a.target.value)} />
            <select aria-label="type" @change=${a=>this._setFilter("type",a.target.value)}>
              <option value="">All types</option>
              ${e.map(a=>n`<option value=${a} ?selected=${o.type===a}>${E(a)}</option>`)}
            </select>
            <select aria-label="presence" @change=${a=>this._setFilter("online",a.target.value)}>
              <option value="">Online and offline</option>
              <option value="online" ?selected=${o.online==="online"}>Online</option>
              <option value="offline" ?selected=${o.online==="offline"}>Offline</option>
            </select>
            <label><input type="checkbox" .checked=${!!o.alerts} @change=${a=>this._setFilter("alerts",a.target.checked)} /> With alerts</label>
            <label><input type="checkbox" .checked=${!!o.blocked} @change=${a=>this._setFilter("blocked",a.target.checked)} /> Blocked</label>
            <label><input type="checkbox" .checked=${!!o.waiting} @change=${a=>this._setFilter("waiting",a.target.checked)} /> Waiting for approval</label>
          </div>`:""}
      <div class="scroll">
        <table>
          <thead>
            <tr>
              ${t.map(a=>n`<th class="${["rate","traffic","alerts"].includes(a)?"num":""} ${["vendor","ips"].includes(a)?"hide-narrow":""}"
                  data-col=${a} @click=${()=>this._sort(a)} aria-sort=${this.sortKey===a?this.sortDesc?"descending":"ascending":"none"}>
                  ${w[a].label}${this.sortKey===a?this.sortDesc?" ▼":" ▲":""}</th>`)}
            </tr>
          </thead>
          <tbody>
            ${r.map(a=>n`<tr data-mac=${a.mac} @click=${()=>this._open(a)}>${t.map(l=>this._cell(l,a))}</tr>`)}
          </tbody>
        </table>
        ${r.length?"":n`<p class="muted empty">No device matches.</p>`}
      </div>
    `}};m(Y,"properties",{devices:{attribute:!1},columns:{attribute:!1},narrow:{type:Boolean,reflect:!0},compact:{type:Boolean,reflect:!0},filters:{attribute:!1},showFilters:{type:Boolean,attribute:"show-filters"},limit:{type:Number},sortKey:{state:!0},sortDesc:{state:!0}}),m(Y,"styles",[_,b`
      :host { display: block; }
      .filters { display: flex; flex-wrap: wrap; gap: 8px; align-items: center; padding: 8px 16px; }
      .filters input[type="search"] { flex: 1 1 200px; min-width: 140px; }
      .filters label { display: flex; align-items: center; gap: 4px; white-space: nowrap; }
      .scroll { overflow-x: auto; }
      table { width: 100%; border-collapse: collapse; font-size: 14px; }
      th { text-align: left; font-weight: 500; color: var(--secondary-text-color); cursor: pointer; user-select: none; padding: 8px; border-bottom: 1px solid var(--divider-color); white-space: nowrap; }
      td { padding: 6px 8px; border-bottom: 1px solid var(--divider-color); vertical-align: middle; }
      tbody tr { cursor: pointer; }
      tbody tr:hover { background: var(--secondary-background-color); }
      .num { text-align: right; white-space: nowrap; }
      .name { font-weight: 500; }
      .mono { font-family: var(--code-font-family, monospace); font-size: 13px; }
      .rate { display: flex; gap: 6px; align-items: center; justify-content: flex-end; font-size: 12px; line-height: 15px; }
      ha-icon { --mdc-icon-size: 20px; color: var(--state-icon-color, var(--paper-item-icon-color)); }
      .empty { padding: 16px; }
      :host([narrow]) .hide-narrow, :host([compact]) .hide-narrow { display: none; }
      :host([compact]) td, :host([compact]) th { padding: 4px 6px; }
      :host([compact]) .name { max-width: 140px; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
    `]);customElements.get("totem-devices-table")||customElements.define("totem-devices-table",Y);var Qt=[[3600,"1 hour"],[8*3600,"8 hours"],[86400,"1 day"],[7*86400,"1 week"],[0,"until unblocked"]],xe=[3600,8*3600,86400,7*86400],Xt={hour:{span:3600,width:60,label:"1 hour"},hours:{span:6*3600,width:300,label:"6 hours"},days:{span:7*86400,width:3600,label:"7 days"}},G=class extends v{constructor(){super(),this._range="hour",this._blockFor=3600,this._snoozeFor=86400}updated(t){(t.has("mac")||t.has("entryId")||t.has("refresh"))&&this.hass&&this.mac&&this._load(),t.has("hass")&&!t.get("hass")&&this.hass&&this.mac&&!this._data&&this._load()}async _load(){try{let t=await this.hass.callWS({type:"totem/device/get",entry_id:this.entryId,mac:this.mac});this._data=t,this._error=void 0}catch(t){this._error=t.message||String(t)}}async _command(t,e={}){this._busy=!0;try{let s=await this.hass.callWS({type:t,entry_id:this.entryId,mac:this.mac,...e});this._error=void 0,s&&s.device?this._data={...this._data,device:s.device}:s&&"device"in s&&([this._data,this._error]=[void 0,"TOTEM forgot this device; if it comes back, it waits for approval again."])}catch(s){this._error=s.message||String(s)}finally{this._busy=!1,this._confirm=void 0}}_askBlock(){let t=this._data.device,e=Qt.find(([s])=>s===this._blockFor)[1];this._confirm={title:`Block ${t.name}?`,text:`${t.name} loses its network access for ${e}. Other devices keep theirs.`,action:"Block",run:()=>this._command("totem/device/block",this._blockFor?{duration:this._blockFor}:{})}}_askUnblock(){let t=this._data.device;this._confirm={title:`Unblock ${t.name}?`,text:`${t.name} gets its network access back now.`,action:"Unblock",run:()=>this._command("totem/device/unblock")}}_setType(t){t&&this._command("totem/device/set_type",{device_type:t})}_askDecide(t){let e=this._data.device,s={approve:[`Approve ${e.name}?`,`${e.name} gets full network access, like every other device.`,"Approve"],keep_blocked:[`Keep ${e.name} blocked?`,`${e.name} stays cut off until you unblock it.`,"Keep blocked"],forget:[`Forget ${e.name}?`,`TOTEM forgets ${e.name}; if it comes back, it waits for approval again.`,"Forget"]},[r,o,a]=s[t];this._confirm={title:r,text:o,action:a,run:()=>this._command("totem/device/approve",{decision:t})}}_approval(t){return t.pending_approval?n`<p><span class="chip bad">waiting for approval</span> <span class="muted">joined after the first inventory; only DHCP and DNS pass</span></p>
      <div class="row">
        <button class="btn primary" id="approve" ?disabled=${this._busy} @click=${()=>this._askDecide("approve")}>Approve</button>
        <button class="btn danger" id="keep-blocked" ?disabled=${this._busy} @click=${()=>this._askDecide("keep_blocked")}>Keep blocked</button>
        <button class="btn" id="forget" ?disabled=${this._busy} @click=${()=>this._askDecide("forget")}>Forget</button>
      </div>`:""}_typeChoice(t){let e=this._data.device_types||[],s=t.type_source==="user";return n`<div class="row">
      <select aria-label="device type" id="type" ?disabled=${this._busy} @change=${r=>this._setType(r.target.value)}>
        <option value="automatic" ?selected=${!s}>Automatic${s?"":` (${E(t.type)})`}</option>
        ${e.map(r=>n`<option value=${r} ?selected=${s&&t.type===r}>${E(r)}</option>`)}
      </select>
      <span class="muted small">${s?"set by you":"from identification"}</span></div>`}_askReset(){let t=this._data.device;this._confirm={title:`Forget what is normal for ${t.name}?`,text:"TOTEM learns this device's normal behaviour again from now on; meanwhile it raises fewer alerts for it.",action:"Reset baseline",run:()=>this._command("totem/device/reset_baseline")}}async _ack(t){try{await this.hass.callWS({type:"totem/alerts/acknowledge",entry_id:t.entry_id,mac:t.mac,kind:t.kind,time:t.time}),this._load()}catch(e){this._error=e.message||String(e)}}_chart(t){let e=Xt[this._range],s=Date.now()/1e3,r=Math.floor((s-e.span)/e.width)*e.width,o=this._range==="days"?t.hours:t.minutes,a=Gt(o,r,s,e.width),l=a.tx.reduce((c,d)=>c+d,0)+a.rx.reduce((c,d)=>c+d,0);return n`
      <div class="head"><h3>Traffic</h3>
        <div class="seg">${Object.entries(Xt).map(([c,d])=>n`<button class="btn ${this._range===c?"primary":""}" @click=${()=>this._range=c}>${d.label}</button>`)}</div>
      </div>
      ${Jt(a,r,e.width,x,640,180)}
      <div class="muted small"><span class="legend-tx">■ sent</span> <span class="legend-rx">■ received</span> · ${x(l)} in ${e.label} · per ${at(e.width)}</div>`}_access(t,e){let s=this._approval(t);return s||(e.enforcing?t.blocked?n`<p><span class="chip bad">blocked</span> ${t.blocked_until?n`until ${q(t.blocked_until)}`:"until unblocked"}</p>
        <button class="btn primary" id="unblock" ?disabled=${this._busy} @click=${this._askUnblock}>Unblock</button>`:n`<p><span class="chip ok">allowed</span> <span class="muted">via ${e.backend}</span></p>
      <div class="row">
        <select aria-label="block for" @change=${r=>this._blockFor=Number(r.target.value)}>
          ${Qt.map(([r,o])=>n`<option value=${r} ?selected=${r===this._blockFor}>${o}</option>`)}
        </select>
        <button class="btn danger" id="block" ?disabled=${this._busy} @click=${this._askBlock}>Block</button>
      </div>`:n`<p class="muted">Blocking is off for ${e.title}: choose a blocking method in TOTEM's options to cut a device off.</p>`)}_alerts(t){let e=t.alerts||[];return n`
      <div class="head"><h3>Alerts</h3>
        <div class="row">
          <select aria-label="snooze for" @change=${s=>this._snoozeFor=Number(s.target.value)}>
            ${xe.map(s=>n`<option value=${s} ?selected=${s===this._snoozeFor}>${at(s)}</option>`)}
          </select>
          <button class="btn" ?disabled=${this._busy} @click=${()=>this._command("totem/device/snooze",{duration:this._snoozeFor})}>Snooze all</button>
          <button class="btn" ?disabled=${this._busy} @click=${this._askReset}>Reset baseline</button>
        </div>
      </div>
      ${e.length?n`<ol class="timeline">${e.map(s=>n`<li class=${s.acknowledged?"acked":""}>
            <span class="sev" style="background:${V[s.severity]||V.info}"></span>
            <div class="what"><b>${R(s.kind)}</b> <span class="muted">${q(s.seen??s.time)}${s.count>1?` · ×${s.count}`:""}</span><br />${s.message}</div>
            <div class="acts">
              <button class="btn" title="no more ${R(s.kind)} alerts for ${at(this._snoozeFor)}" ?disabled=${this._busy}
                @click=${()=>this._command("totem/device/snooze",{kind:s.kind,duration:this._snoozeFor})}>Snooze</button>
              ${s.acknowledged?n`<span class="muted">seen</span>`:n`<button class="btn" @click=${()=>this._ack(s)}>Acknowledge</button>`}
            </div></li>`)}</ol>`:n`<p class="muted">No alert for this device.</p>`}`}render(){if(this._error&&!this._data)return n`<ha-card><div class="pad error">${this._error}</div></ha-card>`;if(!this._data)return n`<ha-card><div class="pad muted">Loading…</div></ha-card>`;let{device:t,entry:e}=this._data,s=Object.entries(t.protocols||{}).sort((c,d)=>d[1]-c[1]),r=s.reduce((c,[,d])=>c+d,0)||1,o=n`<div class="title">
        <ha-icon .icon=${L[t.type]||L.unknown}></ha-icon>
        <div><h2>${t.name}</h2>
          <div class="muted">${t.vendor||"unknown vendor"} · <span title=${t.type_source==="user"?"set by you":t.type_reason||""}>${E(t.type)}</span> · ${t.ips.join(", ")||"no IP"} · ${t.mac}</div>
          <div>${t.online?n`<span class="chip ok">online</span>`:n`<span class="chip">seen ${ot(t.last_seen)}</span>`}
            <span class="muted">↑ ${x(t.tx_bytes)} ↓ ${x(t.rx_bytes)} · ${t.active_flows} active flows · ${t.remote_hosts} remote hosts</span></div>
        </div></div>`,a=this._error?n`<div class="error pad">${this._error}</div>`:"",l=this._confirm?n`<div class="scrim" @click=${c=>c.target===c.currentTarget&&(this._confirm=void 0)}>
          <div class="dialog" role="dialog" aria-modal="true"><h3>${this._confirm.title}</h3><p>${this._confirm.text}</p>
            <div class="row end"><button class="btn" @click=${()=>this._confirm=void 0}>Cancel</button>
            <button class="btn danger" id="confirm" ?disabled=${this._busy} @click=${()=>this._confirm.run()}>${this._confirm.action}</button></div>
          </div></div>`:"";return this.compact?n`<ha-card><div class="pad">${o}${a}${this._chart(t)}
        <div class="split"><div>${this._alerts(t)}</div><div><h3>Network access</h3>${this._access(t,e)}</div></div></div>${l}</ha-card>`:n`
      ${a}
      <div class="grid">
        <ha-card class="wide"><div class="pad">${o}</div></ha-card>
        <ha-card class="wide"><div class="pad">${this._chart(t)}</div></ha-card>
        <ha-card><div class="pad"><h3>Network access</h3>${this._access(t,e)}</div></ha-card>
        <ha-card><div class="pad"><h3>Identification</h3>
          <p><b>${E(t.type)}</b>: ${t.type_source==="user"?"set by you":t.type_reason||n`<span class="muted">no evidence yet</span>`}</p>
          ${this._typeChoice(t)}
          ${Object.entries(t.name_sources||{}).map(([c,d])=>n`<div class="muted small">${c}: ${d}</div>`)}
          <div class="muted small">Vendor (OUI): ${t.manufacturer||"unknown"} · MACs: ${t.macs.join(", ")}</div>
          ${t.device_id?n`<p><a href="/config/devices/device/${t.device_id}">Entities and activity log</a></p>`:""}
        </div></ha-card>
        <ha-card><div class="pad"><h3>Protocols</h3>
          ${s.length?s.slice(0,12).map(([c,d])=>n`<div class="bar"><span>${c}</span><div><i style="width:${100*d/r}%"></i></div><span class="muted">${d}</span></div>`):n`<p class="muted">None seen yet.</p>`}
        </div></ha-card>
        <ha-card><div class="pad"><h3>Top destinations</h3>
          ${t.domains.length?n`<ul class="dest">${t.domains.slice(0,20).map(c=>n`<li>${c}</li>`)}</ul>`:n`<p class="muted">No domain seen yet.</p>`}
          <div class="muted small">${t.remote_hosts} remote hosts</div>
        </div></ha-card>
        <ha-card class="wide"><div class="pad">${this._alerts(t)}</div></ha-card>
      </div>${l}`}};m(G,"properties",{hass:{attribute:!1},entryId:{attribute:"entry-id"},mac:{},refresh:{attribute:!1},narrow:{type:Boolean,reflect:!0},compact:{type:Boolean,reflect:!0},_data:{state:!0},_error:{state:!0},_range:{state:!0},_confirm:{state:!0},_busy:{state:!0},_blockFor:{state:!0},_snoozeFor:{state:!0}}),m(G,"styles",[_,b`
      :host { display: block; }
      .grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(300px, 1fr)); gap: 12px; }
      .wide { grid-column: 1 / -1; }
      .pad { padding: 12px 16px; }
      h2 { margin: 0; font-size: 20px; font-weight: 500; }
      h3 { margin: 4px 0 8px; font-size: 16px; font-weight: 500; }
      .title { display: flex; gap: 12px; align-items: flex-start; }
      .title ha-icon { --mdc-icon-size: 40px; color: var(--state-icon-color, var(--primary-color)); }
      .title > div > div { margin-top: 4px; }
      .head { display: flex; justify-content: space-between; align-items: center; flex-wrap: wrap; gap: 8px; }
      .row { display: flex; gap: 8px; align-items: center; flex-wrap: wrap; }
      .row.end { justify-content: flex-end; }
      .seg { display: flex; gap: 4px; }
      .small { font-size: 12px; }
      .error { color: var(--error-color, #db4437); }
      .bar { display: grid; grid-template-columns: 90px 1fr 50px; gap: 8px; align-items: center; font-size: 13px; margin: 3px 0; }
      .bar div { background: var(--secondary-background-color); height: 8px; border-radius: 4px; overflow: hidden; }
      .bar i { display: block; height: 100%; background: var(--primary-color); }
      .dest { margin: 0; padding-left: 18px; font-size: 13px; columns: 2; }
      .timeline { list-style: none; margin: 0; padding: 0; }
      .timeline li { display: flex; gap: 10px; padding: 8px 0; border-bottom: 1px solid var(--divider-color); align-items: flex-start; }
      .timeline li.acked { opacity: 0.65; }
      .sev { width: 4px; align-self: stretch; border-radius: 2px; }
      .what { flex: 1; font-size: 14px; }
      .acts { display: flex; gap: 6px; align-items: center; }
      .split { display: grid; grid-template-columns: 2fr 1fr; gap: 16px; }
      .scrim { position: fixed; inset: 0; background: rgba(0, 0, 0, 0.45); display: flex; align-items: center; justify-content: center; z-index: 10; }
      .dialog { background: var(--card-background-color, #fff); color: var(--primary-text-color); border-radius: 12px; padding: 16px 20px; max-width: 420px; width: calc(100% - 48px); box-shadow: 0 8px 24px rgba(0, 0, 0, 0.3); }
      :host([narrow]) .timeline li { flex-wrap: wrap; }
      :host([narrow]) .split { grid-template-columns: 1fr; }
    `]);customElements.get("totem-device-view")||customElements.define("totem-device-view",G);var J=class extends v{constructor(){super(),this._kind=this._severity=this._device=""}updated(t){(t.has("refresh")||t.has("hass")&&!this._alerts)&&this.hass&&this._load()}async _load(){try{this._alerts=(await this.hass.callWS({type:"totem/alerts/list"})).alerts}catch(t){this._error=t.message||String(t)}}async _ack(t){try{await this.hass.callWS({type:"totem/alerts/acknowledge",entry_id:t.entry_id,mac:t.mac,kind:t.kind,time:t.time}),this._load()}catch(e){this._error=e.message||String(e)}}render(){let t=this._alerts||[],e=[...new Set(t.map(o=>o.kind))].sort(),s=[...new Set(t.map(o=>o.device_name||o.mac))].sort(),r=t.filter(o=>(!this._kind||o.kind===this._kind)&&(!this._severity||o.severity===this._severity)&&(!this._device||(o.device_name||o.mac)===this._device));return n`<ha-card>
      <div class="filters">
        <select aria-label="kind" @change=${o=>this._kind=o.target.value}><option value="">All kinds</option>${e.map(o=>n`<option value=${o}>${R(o)}</option>`)}</select>
        <select aria-label="severity" @change=${o=>this._severity=o.target.value}><option value="">All severities</option>${["critical","warning","info"].map(o=>n`<option value=${o}>${o}</option>`)}</select>
        <select aria-label="device" @change=${o=>this._device=o.target.value}><option value="">All devices</option>${s.map(o=>n`<option value=${o}>${o}</option>`)}</select>
        <span class="muted">${r.length} of ${t.length}</span>
      </div>
      ${this._error?n`<div class="error">${this._error}</div>`:""}
      <table>
        <thead><tr><th>When</th><th>Device</th><th>Kind</th><th>Severity</th><th>What</th><th></th></tr></thead>
        <tbody>${r.map(o=>n`<tr class=${o.acknowledged?"acked":""}>
          <td class="nowrap">${q(o.seen??o.time)}</td>
          <td><a href="#" @click=${a=>{a.preventDefault(),this.dispatchEvent(new CustomEvent("device-selected",{detail:{entry_id:o.entry_id,mac:o.device},bubbles:!0,composed:!0}))}}>${o.device_name||o.mac}</a></td>
          <td>${R(o.kind)}${o.count>1?n` <span class="muted">×${o.count}</span>`:""}</td>
          <td><span class="sev" style="background:${V[o.severity]}"></span>${o.severity}</td>
          <td>${o.message}</td>
          <td>${o.acknowledged?n`<span class="muted">seen</span>`:n`<button class="btn" @click=${()=>this._ack(o)}>Acknowledge</button>`}</td>
        </tr>`)}</tbody>
      </table>
      ${r.length?"":n`<p class="muted pad">No alert${t.length?" matches":" yet: TOTEM is learning what is normal"}.</p>`}
    </ha-card>`}};m(J,"properties",{hass:{attribute:!1},refresh:{attribute:!1},_alerts:{state:!0},_kind:{state:!0},_severity:{state:!0},_device:{state:!0},_error:{state:!0}}),m(J,"styles",[_,b`
      .filters { display: flex; gap: 8px; flex-wrap: wrap; align-items: center; padding: 12px 16px; }
      table { width: 100%; border-collapse: collapse; font-size: 14px; }
      th { text-align: left; font-weight: 500; color: var(--secondary-text-color); padding: 8px; border-bottom: 1px solid var(--divider-color); }
      td { padding: 6px 8px; border-bottom: 1px solid var(--divider-color); vertical-align: top; }
      tr.acked { opacity: 0.65; }
      .nowrap { white-space: nowrap; }
      .sev { display: inline-block; width: 8px; height: 8px; border-radius: 50%; margin-right: 6px; }
      a { color: var(--primary-color); text-decoration: none; }
      .pad { padding: 16px; }
      .error { color: var(--error-color); padding: 0 16px; }
    `]);customElements.get("totem-alerts-view")||customElements.define("totem-alerts-view",J);var Z=class extends v{constructor(){super();m(this,"_select",e=>{let s=e.detail;s&&s.mac&&this._go(`device/${s.entry_id}/${encodeURIComponent(s.mac)}`)});this._tab="devices",this._filters={}}connectedCallback(){super.connectedCallback(),this._readHash(),this._onHash=()=>this._readHash(),window.addEventListener("hashchange",this._onHash)}disconnectedCallback(){super.disconnectedCallback(),window.removeEventListener("hashchange",this._onHash),this._unsub&&this._unsub(),this._unsub=void 0}updated(e){e.has("hass")&&this.hass&&!this._unsub&&(this._unsub=W(this.hass,s=>{this._table=s,window.__totemPanelUpdates=(window.__totemPanelUpdates||0)+1}))}_readHash(){let[e,s,r]=window.location.hash.replace(/^#/,"").split("/");e==="device"&&s&&r?(this._tab="device",this._selected={entry_id:s,mac:decodeURIComponent(r)}):(this._tab=e==="alerts"?"alerts":"devices",this._selected=void 0)}_go(e){window.location.hash=e}render(){let e=this._table,s=e&&e.summary;return n`
      <div class="toolbar">
        <ha-menu-button .hass=${this.hass} .narrow=${this.narrow}></ha-menu-button>
        <div class="main-title">Network</div>
        <nav>
          <button class="tab ${this._tab==="devices"?"on":""}" @click=${()=>this._go("devices")}>Devices</button>
          <button class="tab ${this._tab==="alerts"?"on":""}" @click=${()=>this._go("alerts")}>Alerts${s&&s.open_alerts?n` <span class="badge">${s.open_alerts}</span>`:""}</button>
        </nav>
      </div>
      <div class="content">
        ${e?e.entries.length?this._page(e):n`<ha-card><p class="pad">No TOTEM entry is loaded. Add TOTEM under Settings → Devices &amp; services.</p></ha-card>`:n`<p class="muted">Connecting…</p>`}
      </div>`}_page(e){if(this._tab==="device"&&this._selected)return n`<button class="btn back" @click=${()=>this._go("devices")}>← All devices</button>
        <totem-device-view .hass=${this.hass} .entryId=${this._selected.entry_id} .mac=${this._selected.mac}
          .refresh=${e} ?narrow=${this.narrow}></totem-device-view>`;if(this._tab==="alerts")return n`<totem-alerts-view .hass=${this.hass} .refresh=${e} @device-selected=${this._select}></totem-alerts-view>`;let s=e.summary;return n`
      <div class="summary" id="summary">
        <b>${s.online}</b> of ${s.devices} devices online · <b>${s.new_this_week}</b> new this week ·
        <b>${s.open_alerts}</b> open alerts${s.blocked?n` · <b>${s.blocked}</b> blocked`:""}${s.waiting?n` · <b>${s.waiting}</b> waiting for approval`:""}
        <span class="muted"> · ${e.entries.map(r=>r.title).join(", ")}</span>
      </div>
      <ha-card>
        <totem-devices-table .devices=${e.devices} .filters=${this._filters} ?narrow=${this.narrow}
          @filters-changed=${r=>this._filters=r.detail} @device-selected=${this._select}></totem-devices-table>
      </ha-card>`}};m(Z,"properties",{hass:{attribute:!1},narrow:{type:Boolean,reflect:!0},route:{attribute:!1},panel:{attribute:!1},_table:{state:!0},_tab:{state:!0},_selected:{state:!0},_filters:{state:!0}}),m(Z,"styles",[_,b`
      :host { display: block; min-height: 100vh; background: var(--primary-background-color); }
      .toolbar { display: flex; align-items: center; height: var(--header-height, 56px); padding: 0 12px; gap: 8px;
        background: var(--app-header-background-color, var(--primary-color)); color: var(--app-header-text-color, var(--text-primary-color, #fff));
        border-bottom: var(--app-header-border-bottom, none); position: sticky; top: 0; z-index: 2; }
      .main-title { font-size: 20px; flex: 1; }
      nav { display: flex; gap: 4px; }
      .tab { font: inherit; background: transparent; border: 0; color: inherit; padding: 8px 12px; cursor: pointer; border-bottom: 2px solid transparent; opacity: 0.8; }
      .tab.on { border-bottom-color: currentColor; opacity: 1; }
      .badge { background: var(--error-color, #db4437); color: #fff; border-radius: 9px; padding: 0 6px; font-size: 12px; }
      .content { padding: 16px; max-width: 1400px; margin: 0 auto; }
      :host([narrow]) .content { padding: 8px; }
      .summary { margin: 0 4px 12px; }
      .back { margin-bottom: 12px; }
      .pad { padding: 16px; }
    `]);customElements.get("totem-panel")||customElements.define("totem-panel",Z);var te=["name","type","seen","rate","traffic","alerts","access"];function we(i){history.pushState(null,"",i),window.dispatchEvent(new CustomEvent("location-changed",{detail:{replace:!1}}))}var Q=class extends v{connectedCallback(){super.connectedCallback(),this.hass&&!this._unsub&&this._subscribe()}disconnectedCallback(){super.disconnectedCallback(),this._unsub&&this._unsub(),this._unsub=void 0}updated(t){t.has("hass")&&this.hass&&!this._unsub&&this.isConnected&&this._subscribe()}_subscribe(){this._unsub=W(this.hass,t=>this._table=t)}};m(Q,"properties",{hass:{attribute:!1},_config:{state:!0},_table:{state:!0}});var nt=class extends Q{setConfig(t){if(t.columns&&(!Array.isArray(t.columns)||t.columns.some(e=>!w[e])))throw new Error(`columns: choose from ${Object.keys(w).join(", ")}`);this._config={title:"Network",columns:te,filter:{},...t}}getCardSize(){return 2+Math.min(this._config?.limit||8,12)}static getConfigElement(){return document.createElement("totem-devices-card-editor")}static getStubConfig(){return{title:"Network",limit:8,filter:{online:"online"}}}render(){if(!this._config)return n``;let t=this._config,e=this._table,s=e?e.devices:[];return n`<ha-card>
      <div class="card-head"><span>${t.title}</span>${e?n`<span class="muted small">${e.summary.online}/${e.summary.devices} online · ${e.summary.open_alerts} open alerts</span>`:""}</div>
      ${e?n`<totem-devices-table compact .devices=${s} .columns=${t.columns} .filters=${t.filter||{}}
            .showFilters=${!!t.show_filters} .limit=${t.limit}
            @device-selected=${r=>we(`/totem#device/${r.detail.entry_id}/${encodeURIComponent(r.detail.mac)}`)}></totem-devices-table>`:n`<p class="muted pad">Connecting…</p>`}
    </ha-card>`}};m(nt,"styles",[_,b`
      .card-head { display: flex; justify-content: space-between; align-items: baseline; padding: 12px 16px 4px; font-size: 18px; }
      .small { font-size: 12px; }
      .pad { padding: 0 16px 16px; }
    `]);var ct=class extends Q{setConfig(t){if(!t.mac)throw new Error("mac: the MAC address of the device to show");this._config={...t,mac:String(t.mac).toLowerCase()}}getCardSize(){return 6}static getConfigElement(){return document.createElement("totem-device-card-editor")}static getStubConfig(){return{mac:""}}render(){if(!this._config)return n``;let t=this._table,e=this._config.mac,s=t&&t.devices.find(r=>r.mac===e&&(!this._config.entry_id||r.entry_id===this._config.entry_id));return t?s?n`<totem-device-view compact .hass=${this.hass} .entryId=${s.entry_id} .mac=${s.mac} .refresh=${t}></totem-device-view>`:n`<ha-card><p class="pad">TOTEM has no device ${e}.</p></ha-card>`:n`<ha-card><p class="muted pad">Connecting…</p></ha-card>`}};m(ct,"styles",[_,b`.pad { padding: 16px; }`]);var N=class extends v{setConfig(t){this._config=t}_set(t,e){let s={...this._config};e===""||e==null?delete s[t]:s[t]=e,this._config=s,this.dispatchEvent(new CustomEvent("config-changed",{detail:{config:s},bubbles:!0,composed:!0}))}};m(N,"properties",{hass:{attribute:!1},_config:{state:!0}}),m(N,"styles",[_,b`label { display: flex; flex-direction: column; gap: 4px; margin-bottom: 12px; } .cols { display: flex; flex-wrap: wrap; gap: 8px; }`]);var Et=class extends N{render(){if(!this._config)return n``;let t=this._config,e=t.columns||te,s=t.filter||{};return n`
      <label>Title <input .value=${t.title||""} @input=${r=>this._set("title",r.target.value)} /></label>
      <label>Rows (busiest first) <input type="number" min="1" .value=${t.limit||""} @input=${r=>this._set("limit",Number(r.target.value)||"")} /></label>
      <div>Columns</div>
      <div class="cols">${Object.entries(w).map(([r,o])=>n`<label><span><input type="checkbox" .checked=${e.includes(r)}
        @change=${a=>this._set("columns",a.target.checked?[...e,r].filter((l,c,d)=>d.indexOf(l)===c):e.filter(l=>l!==r))} /> ${o.label}</span></label>`)}</div>
      <label>Show <select @change=${r=>this._set("filter",{...s,online:r.target.value||void 0})}>
        <option value="" ?selected=${!s.online}>online and offline devices</option>
        <option value="online" ?selected=${s.online==="online"}>online devices</option>
        <option value="offline" ?selected=${s.online==="offline"}>offline devices</option></select></label>
      <label><span><input type="checkbox" .checked=${!!s.alerts} @change=${r=>this._set("filter",{...s,alerts:r.target.checked||void 0})} /> Only devices with alerts</span></label>
    `}},lt=class extends N{connectedCallback(){super.connectedCallback(),this.hass&&(this._unsub=W(this.hass,t=>this._table=t))}disconnectedCallback(){super.disconnectedCallback(),this._unsub&&this._unsub()}render(){if(!this._config)return n``;let t=this._table?[...this._table.devices].sort((e,s)=>e.name.localeCompare(s.name)):[];return n`<label>Device <select @change=${e=>this._set("mac",e.target.value)}>
      <option value="">choose a device</option>
      ${t.map(e=>n`<option value=${e.mac} ?selected=${e.mac===this._config.mac}>${e.name} (${e.mac})</option>`)}
    </select></label>`}};m(lt,"properties",{...N.properties,_table:{state:!0}});var dt=(i,t)=>customElements.get(i)||customElements.define(i,t);dt("totem-devices-card",nt);dt("totem-device-card",ct);dt("totem-devices-card-editor",Et);dt("totem-device-card-editor",lt);window.customCards=window.customCards||[];for(let[i,t,e]of[["totem-devices-card","TOTEM devices","The home's devices with their traffic, alerts and access."],["totem-device-card","TOTEM device","One device: traffic chart, alerts and network access."]])window.customCards.some(s=>s.type===i)||window.customCards.push({type:i,name:t,description:e,preview:!1});
